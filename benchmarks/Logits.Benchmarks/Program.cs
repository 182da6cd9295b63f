using System;
using System.Globalization;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using Logits.Benchmarks.Infrastructure;

// Modes (see docs/benchmarks.md):
//   --quick  a Stopwatch harness around every case's methods, a few seconds per case; prints the ratio table.
//   --dry    one call per method at the smallest V plus the peer agreement checks; exit code 1 on any problem (CI).
//   --case NAME (with --quick, --dry or --peer-check) runs only that case, e.g. --case "default chain in generation".
//   --peer-check [--vocab N]  each peer's time in the suite against the same call alone in a child process (default V = 32000);
//            exit code 1 when one differs by more than 20 %.
//   --chart TABLE.md OUT.png [--subtitle TEXT]  draws the ratio chart again from a recorded ratio table (no benchmark runs).
//   anything else goes to BenchmarkDotNet (e.g. --filter '*' --job short [--vocab 128256]); the ratio table is then written as
//   BenchmarkDotNet.Artifacts/ratios.md with a bar chart, ratios.png.
// LOGITS_DISABLE_ROW_BLOCKS=1 runs Logits' CPU pipeline step by step over the whole batch (as before row blocks), for
// before/after runs of the batch cases; child processes inherit it.
if (Environment.GetEnvironmentVariable("LOGITS_DISABLE_ROW_BLOCKS") == "1")
{
    AppContext.SetSwitch("Logits.Cpu.DisableRowBlocks", true);
}

if (args.Length >= 4 && args[0] == QuickRunner.ChildSwitch)
{
    LogitDistribution? distribution = args.Length >= 5 ? Enum.Parse<LogitDistribution>(args[4]) : null;
    return QuickRunner.RunChild(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3] == "dry", Console.Out, distribution);
}

if (args.Length >= 4 && args[0] == PeerCheck.ChildSwitch)
{
    return PeerCheck.RunChild(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3], Console.Out);
}

int chartIndex = Array.IndexOf(args, "--chart");
if (chartIndex >= 0)
{
    if (chartIndex + 2 >= args.Length)
    {
        Console.Error.WriteLine("Usage: --chart TABLE.md OUT.png [--subtitle TEXT]  (TABLE.md: a run's ratios.md or docs/benchmarks.md)");
        return 2;
    }

    int subtitleIndex = Array.IndexOf(args, "--subtitle");
    string? subtitle = subtitleIndex >= 0 && subtitleIndex + 1 < args.Length ? args[subtitleIndex + 1] : null;
    var recorded = RatioTable.ParseMarkdown(File.ReadLines(args[chartIndex + 1]));
    if (recorded.Rows.Count == 0)
    {
        Console.Error.WriteLine($"No ratio-table rows in {args[chartIndex + 1]}.");
        return 1;
    }

    RatioChart.Write(recorded, args[chartIndex + 2], subtitle);
    Console.WriteLine($"{recorded.Rows.Count} rows read; chart written to {Path.GetFullPath(args[chartIndex + 2])}.");
    return 0;
}

if ((args.Contains("--quick") || args.Contains("--peer-check")) && !HarnessProcess.IsHarnessProcess)
{
    // Every Stopwatch measurement runs under the same JIT settings (tiered, promotion after 30 calls; see
    // HarnessProcess), whatever the caller's environment: the run goes on in a child process that has them.
    return QuickRunner.RunInHarnessProcess(args);
}

if (args.Contains("--peer-check"))
{
    // --peer-check [--vocab N] [--case NAME]: every peer's time in the suite against the same call alone (docs/benchmarks.md).
    int peerVocabIndex = Array.IndexOf(args, "--vocab");
    int peerVocab = peerVocabIndex >= 0 && peerVocabIndex + 1 < args.Length ? int.Parse(args[peerVocabIndex + 1], CultureInfo.InvariantCulture) : 32000;
    int peerCaseIndex = Array.IndexOf(args, "--case");
    return PeerCheck.Run(peerVocab, peerCaseIndex >= 0 && peerCaseIndex + 1 < args.Length ? args[peerCaseIndex + 1] : null, Console.Out);
}

if (args.Contains("--quick") || args.Contains("--dry"))
{
    // --case NAME keeps one case (its name in the ratio table, e.g. "default chain in generation").
    int caseIndex = Array.IndexOf(args, "--case");
    string? caseName = caseIndex >= 0 && caseIndex + 1 < args.Length ? args[caseIndex + 1] : null;
    return QuickRunner.Run(dry: args.Contains("--dry"), Console.Out, caseName);
}

// The generated project of the full run must get the libstdc++ fix for TorchSharp's native library too (see the csproj):
// MSBuild reads environment variables as properties, and BenchmarkDotNet's build inherits this process's environment.
string torchSharpFix = Path.Combine(AppContext.BaseDirectory, "build", "Logits.TorchSharp.targets");
if (File.Exists(torchSharpFix) && Environment.GetEnvironmentVariable("CustomAfterMicrosoftCommonTargets") is null)
{
    Environment.SetEnvironmentVariable("CustomAfterMicrosoftCommonTargets", torchSharpFix);
}

// --vocab N (full run only): keep the cases at one vocabulary size (and those without a Vocab parameter), so the
// issue's V = 128256 targets can be measured in a fraction of the full run's time.
IConfig config = DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default);
int vocabIndex = Array.IndexOf(args, "--vocab");
if (vocabIndex >= 0 && vocabIndex + 1 < args.Length)
{
    int vocab = int.Parse(args[vocabIndex + 1], CultureInfo.InvariantCulture);
    config = config.AddFilter(new SimpleFilter(benchmark =>
        benchmark.Parameters.Items.All(p => p.Name != "Vocab" || (int)p.Value == vocab)));
    args = args.Where((_, i) => i != vocabIndex && i != vocabIndex + 1).ToArray();
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToList();
FullRunReport.Write(summaries, Console.Out);
return 0;

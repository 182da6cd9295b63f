// Long reliability runs (issue 9): fuzzing, soak and resource checks on both backends.
// Run: dotnet run -c Release --project tests/Logits.Reliability -- [--quick] [--out docs/reliability.md] [--threads N]
// (--threads: torch intra-op threads, default 1 on machines with 2 or fewer cores, else half the cores.)
// Exits with 1 if any check fails (a fuzz defect, memory or tensor growth, an exception in the soak);
// the report is written either way, with the failures listed under "Verdict".
// The fast versions of the same checks run in the test suite (Logits.Tests/Reliability).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Logits;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.Tests.Reliability;
using Logits.TorchSharp.Tensors;
using TorchSharp;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
bool quick = args.Contains("--quick");
int outIndex = Array.IndexOf(args, "--out");
string? output = outIndex >= 0 && outIndex + 1 < args.Length ? args[outIndex + 1] : null;
int threadsIndex = Array.IndexOf(args, "--threads");
int threads = Logits.TorchSharp.TorchRuntime.DefaultIntraOpThreads;
if (threadsIndex >= 0 && !(threadsIndex + 1 < args.Length && int.TryParse(args[threadsIndex + 1], NumberStyles.None, CultureInfo.InvariantCulture, out threads) && threads >= 1))
{
    Console.Error.WriteLine("'--threads' needs an integer of at least 1.");
    return 2;
}

// Process-wide; libtorch's default uses every core, which a small shared machine pays for in waiting threads.
Logits.TorchSharp.TorchRuntime.SetIntraOpThreads(threads);

int fuzzCpu = quick ? 20_000 : 300_000;
int fuzzTorch = quick ? 2_000 : 20_000;
int soakCpu = quick ? 50_000 : 1_000_000;
int soakTorch = quick ? 5_000 : 100_000;
int fuzzPresets = quick ? 10_000 : 200_000;
int fuzzChat = quick ? 10_000 : 200_000;
int fuzzGenerator = quick ? 1_000 : 20_000;
const int FuzzSeed = 20261126;

string command = $"dotnet run -c Release --project tests/Logits.Reliability -- {string.Join(' ', args)}".TrimEnd();
var report = new StringBuilder();
report.AppendLine("# Reliability runs");
report.AppendLine();
report.AppendLine(quick
    ? "These are the `--quick` runs (20 000 / 2 000 fuzz cases, 50 000 / 5 000 soak calls), not the full runs that issue 9 asks for; the command without `--quick` performs those."
    : "These are the full runs that issue 9 asks for: 300 000 CPU and 20 000 TorchSharp fuzz cases, 1 000 000 CPU and 100 000 TorchSharp soak calls. `--quick` runs a twentieth of them in a few minutes.");
report.AppendLine("Fuzzing counts every call's outcome by kind; anything but a kept token in range or one of the two documented exceptions (`InvalidLogitsException`, `NoViableTokenException`) is listed as a DEFECT and makes the command exit with 1. The soak samples the managed heap (after a full GC), the process's resident memory and TorchSharp's live-tensor count after warm-up and at the end; growth beyond the bounds below, an allocation per call on the CPU path, or any exception also makes it exit with 1. The soak row is one of the test data's random rows, sampled with a fixed 256-token history.");
report.AppendLine();
report.AppendLine($"Produced by `{command}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC (total {{TOTAL}}).");
report.AppendLine($"Machine: {Environment.ProcessorCount} cores, {CpuModel()}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, TorchSharp {typeof(torch).Assembly.GetName().Version}.");
report.AppendLine();

var total = Stopwatch.StartNew();
var failures = new List<string>();
Console.WriteLine($"fuzzing the CPU backend: {fuzzCpu} cases (seed {FuzzSeed})");
report.AppendLine(Fuzz("CPU", fuzzCpu, FuzzSeed, (d, r, v) => CpuLogitBatch.FromRows(d, r, v), failures));
Console.WriteLine($"fuzzing the torch backend: {fuzzTorch} cases (seed {FuzzSeed + 1})");
report.AppendLine(Fuzz("TorchSharp", fuzzTorch, FuzzSeed + 1, (d, r, v) => TorchLogitBatch.FromArray(d, r, v), failures));
Console.WriteLine($"fuzzing the presets, the ChatOptions mapping and the generator: {fuzzPresets} / {fuzzChat} / {fuzzGenerator} cases");
report.AppendLine(FuzzOptions(fuzzPresets, fuzzChat, fuzzGenerator, FuzzSeed + 2, failures));
Console.WriteLine($"soaking the CPU backend: {soakCpu} pipeline calls");
report.AppendLine(Soak("CPU", soakCpu, (d, r, v) => CpuLogitBatch.FromRows(d, r, v), reuseBatch: true, failures));
Console.WriteLine($"soaking the torch backend: {soakTorch} pipeline calls");
report.AppendLine(Soak("TorchSharp", soakTorch, (d, r, v) => TorchLogitBatch.FromArray(d, r, v), reuseBatch: false, failures));

report.AppendLine("## Verdict");
report.AppendLine();
report.AppendLine(failures.Count == 0 ? "No defect: every check above passed." : string.Join(Environment.NewLine, failures.Select(f => $"- FAILED: {f}")));
string text = report.ToString().Replace("{TOTAL}", $"{total.Elapsed.TotalMinutes:F1} min", StringComparison.Ordinal);
Console.WriteLine(text);
if (output is not null)
{
    // Written to a temporary file first, so an interrupted run never leaves a half report behind.
    string partial = output + ".partial";
    File.WriteAllText(partial, text);
    File.Move(partial, output, overwrite: true);
    Console.WriteLine($"written to {output}");
}

return failures.Count == 0 ? 0 : 1;

static string Fuzz(string backend, int cases, int seed, Func<float[], int, int, LogitBatch> create, List<string> failures)
{
    var rng = new Random(seed);
    var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
    var watch = Stopwatch.StartNew();
    for (int c = 0; c < cases; c++)
    {
        int rows = 1 + rng.Next(3);
        int vocab = 1 + rng.Next(rng.Next(4) == 0 ? 300 : 20);
        var data = PipelineFuzzTests.RandomRows(rng, rows, vocab, allowInvalid: rng.Next(4) == 0);
        var processors = Enumerable.Range(0, rng.Next(6)).Select(_ => PipelineFuzzTests.RandomProcessor(rng, vocab)).ToArray();
        var pipeline = new LogitPipeline(processors, PipelineFuzzTests.RandomSelector(rng), rng.Next(2) == 0);
        var contexts = SamplingContext.ForRows(rows, new[] { rng.Next(vocab) });
        for (int r = 0; r < rows; r++)
        {
            var history = Enumerable.Range(0, rng.Next(12)).Select(_ => rng.Next(4) == 0 ? -1 : rng.Next(vocab)).ToArray();
            contexts[r].SetHistory(history, rng.Next(history.Length + 1));
        }

        using var batch = create(data, rows, vocab);
        var tokens = new int[rows];
        string outcome;
        try
        {
            pipeline.Sample(batch, contexts, tokens);
            var processed = batch.ToArray();
            bool valid = true;
            for (int r = 0; r < rows; r++)
            {
                valid &= tokens[r] >= 0 && tokens[r] < vocab && processed[(r * vocab) + tokens[r]] > float.NegativeInfinity;
            }

            outcome = valid ? "token" : "DEFECT: invalid token";
        }
        catch (InvalidLogitsException)
        {
            outcome = "InvalidLogitsException";
        }
        catch (NoViableTokenException)
        {
            outcome = "NoViableTokenException";
        }
        catch (Exception error)
        {
            outcome = $"DEFECT: {error.GetType().Name}";
        }

        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
    }

    foreach (var (outcome, count) in outcomes.Where(o => o.Key.StartsWith("DEFECT", StringComparison.Ordinal)))
    {
        failures.Add($"fuzzing {backend}: {count} calls ended in {outcome}");
    }

    var text = new StringBuilder();
    text.AppendLine($"## Fuzzing, {backend}");
    text.AppendLine();
    text.AppendLine($"{cases} random pipelines (0-5 random processors with random valid parameters, random order, random selector, Checked mode half the time) over random rows with special values (±inf, NaN, subnormals, ±1e30, all equal, one finite entry); seed {seed}; {watch.Elapsed.TotalSeconds:F1} s.");
    text.AppendLine();
    text.AppendLine("| outcome | calls |");
    text.AppendLine("| --- | --- |");
    foreach (var (outcome, count) in outcomes)
    {
        text.AppendLine($"| {outcome} | {count} |");
    }

    return text.ToString();
}

static string FuzzOptions(int presets, int chat, int generator, int seed, List<string> failures)
{
    var text = new StringBuilder();
    text.AppendLine("## Fuzzing the layers around the core");
    text.AppendLine();
    text.AppendLine("Random and hostile values (NaN, ±inf, ±1e20, negative, fractional, booleans, dates, strings, JSON, ids outside the vocabulary) for every setting of `LlamaCppSamplingOptions` and `HuggingFaceSamplingOptions` through `SamplingPresets`, for `ChatOptions` properties and additional properties through `ChatOptionsMapping.ToPipeline` (strict mode a quarter of the time), and for the generator's budget, EOS ids, stop sequences and model batch shape (`Logits.Tests/Reliability/OptionsFuzz.cs`). Each outcome is checked against an independent statement of the documented ranges: a valid setting must build its step (else \"silently dropped\"), an invalid one must throw an argument exception naming that setting, a model batch that disagrees with its vocabulary must throw `InvalidOperationException`; anything else is a DEFECT.");
    text.AppendLine();
    foreach (var (name, cases, run) in new (string, int, Func<int, int, SortedDictionary<string, int>>)[]
    {
        ("presets and option classes", presets, OptionsFuzz.Presets),
        ("ChatOptions mapping", chat, OptionsFuzz.ChatOptionsMapping),
        ("generator", generator, OptionsFuzz.Generator),
    })
    {
        var watch = Stopwatch.StartNew();
        var outcomes = run(cases, seed++);
        text.AppendLine($"### {name}: {cases} cases, seed {seed - 1}, {watch.Elapsed.TotalSeconds:F1} s");
        text.AppendLine();
        text.AppendLine("| outcome | cases |");
        text.AppendLine("| --- | --- |");
        foreach (var (outcome, count) in outcomes)
        {
            text.AppendLine($"| {outcome.Replace("|", "\\|", StringComparison.Ordinal)} | {count} |");
            if (outcome.StartsWith("DEFECT", StringComparison.Ordinal))
            {
                failures.Add($"fuzzing the {name}: {count} cases ended in {outcome}");
            }
        }

        text.AppendLine();
    }

    return text.ToString();
}

static string Soak(string backend, int calls, Func<float[], int, int, LogitBatch> create, bool reuseBatch, List<string> failures)
{
    const int vocab = 32000;
    const int DataSeed = 99;
    const ulong SelectorSeed = 3;

    // Bounds on growth after warm-up: a leak of one small object per call would exceed them by far.
    const long HeapBound = 1 << 20;
    const long ResidentBound = 64L << 20;
    var data = LogitData.Random(1, vocab, DataSeed);
    var pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = SelectorSeed, RepetitionPenalty = 1.1, FrequencyPenalty = 0.2, PresencePenalty = 0.1 });
    var contexts = SamplingContext.ForRows(1);
    var history = Enumerable.Range(0, 256).Select(i => (i * 7919) % vocab).ToArray();
    contexts[0].SetHistory(history, 64);
    var tokens = new int[1];
    var exceptions = new SortedDictionary<string, int>(StringComparer.Ordinal);
    long heapStart = GC.GetTotalMemory(forceFullCollection: true);
    long rssStart = Process.GetCurrentProcess().WorkingSet64;
    long liveStart = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    var shared = reuseBatch ? create(data, 1, vocab) : null;
    int warmUp = Math.Max(1000, calls / 100);
    long liveBefore = 0;
    long heapBefore = 0;
    long rssBefore = 0;
    long allocatedBefore = 0;
    long progressAllocated = 0;
    ulong tokenHash = 14695981039346656037UL;
    var watch = Stopwatch.StartNew();
    for (int call = 0; call < calls + warmUp; call++)
    {
        if (call == warmUp)
        {
            heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            rssBefore = Process.GetCurrentProcess().WorkingSet64;
            liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            watch.Restart();
        }

        try
        {
            if (shared is not null)
            {
                shared.CopyFrom(data);
                pipeline.Sample(shared, contexts, tokens);
            }
            else
            {
                using var batch = create(data, 1, vocab);
                pipeline.Sample(batch, contexts, tokens);
            }

            // FNV-1a over the sampled tokens: the run's whole token stream in one reproducible number.
            tokenHash = (tokenHash ^ (uint)tokens[0]) * 1099511628211UL;
        }
        catch (Exception error)
        {
            exceptions[error.GetType().Name] = exceptions.GetValueOrDefault(error.GetType().Name) + 1;
        }

        if (call > warmUp && call % 100_000 == 0)
        {
            // The progress line allocates; it is left out of the per-call allocation count.
            long beforeProgress = GC.GetAllocatedBytesForCurrentThread();
            Console.WriteLine($"  {call - warmUp} calls, {watch.Elapsed.TotalSeconds:F0} s");
            progressAllocated += GC.GetAllocatedBytesForCurrentThread() - beforeProgress;
        }
    }

    double seconds = watch.Elapsed.TotalSeconds;
    long allocatedAfter = GC.GetAllocatedBytesForCurrentThread();
    long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
    long rssAfter = Process.GetCurrentProcess().WorkingSet64;
    long liveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    shared?.Dispose();
    long allocated = allocatedAfter - allocatedBefore - progressAllocated;
    double allocatedPerCall = (double)allocated / calls;
    if (heapAfter - heapBefore > HeapBound)
    {
        failures.Add($"soak {backend}: managed heap grew by {heapAfter - heapBefore} bytes (bound {HeapBound})");
    }

    if (rssAfter - rssBefore > ResidentBound)
    {
        failures.Add($"soak {backend}: resident memory grew by {rssAfter - rssBefore} bytes (bound {ResidentBound})");
    }

    if (liveAfter != liveBefore)
    {
        failures.Add($"soak {backend}: {liveAfter - liveBefore} torch tensors left alive");
    }

    if (reuseBatch && allocated > 0)
    {
        failures.Add($"soak {backend}: {allocated} bytes allocated in {calls} calls on the CPU path (expected 0)");
    }

    foreach (var (kind, count) in exceptions)
    {
        failures.Add($"soak {backend}: {count} calls threw {kind}");
    }

    var text = new StringBuilder();
    text.AppendLine($"## Soak, {backend}");
    text.AppendLine();
    text.AppendLine($"{calls} calls of llama.cpp's default chain (`SamplingPresets.LlamaCpp`, selector seed {SelectorSeed}) with repetition 1.1, frequency 0.2 and presence 0.1 penalties over a 256-token history, one row of `LogitData.Random(1, {vocab}, {DataSeed})`, V = {vocab}, {(reuseBatch ? "one batch refilled every call" : "a new batch created and disposed every call")}, after {warmUp} warm-up calls; {seconds:F1} s ({seconds * 1e6 / calls:F1} µs per call). FNV-1a hash of the sampled tokens: `{tokenHash:x16}`.");
    text.AppendLine();
    text.AppendLine("| measure | before the first call | after warm-up | at the end | growth after warm-up | bound |");
    text.AppendLine("| --- | --- | --- | --- | --- | --- |");
    text.AppendLine($"| managed heap (bytes, after a full GC) | {heapStart} | {heapBefore} | {heapAfter} | {heapAfter - heapBefore} | {HeapBound} |");
    text.AppendLine($"| resident memory (bytes) | {rssStart} | {rssBefore} | {rssAfter} | {rssAfter - rssBefore} | {ResidentBound} |");
    text.AppendLine($"| live torch tensors (dispose-scope statistics) | {liveStart} | {liveBefore} | {liveAfter} | {liveAfter - liveBefore} | 0 |");
    text.AppendLine($"| managed bytes allocated by the measured calls (this thread) | | | {allocated} ({allocatedPerCall:F2} per call) | | {(reuseBatch ? "0" : "none (the torch path allocates its wrappers)")} |");
    text.AppendLine();
    text.AppendLine("| exception kind | calls |");
    text.AppendLine("| --- | --- |");
    if (exceptions.Count == 0)
    {
        text.AppendLine("| none | 0 |");
    }

    foreach (var (kind, count) in exceptions)
    {
        text.AppendLine($"| {kind} | {count} |");
    }

    return text.ToString();
}

static string CpuModel()
{
    try
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("model name", StringComparison.Ordinal))
            {
                return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
    }
    catch (IOException)
    {
    }

    return "unknown CPU";
}

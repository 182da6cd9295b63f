// Long reliability runs (issue 9): fuzzing, soak and resource checks on both backends.
// Run: dotnet run -c Release --project tests/Logits.Reliability -- [--quick] [--out docs/reliability.md]
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

int fuzzCpu = quick ? 20_000 : 300_000;
int fuzzTorch = quick ? 2_000 : 20_000;
int soakCpu = quick ? 50_000 : 1_000_000;
int soakTorch = quick ? 5_000 : 100_000;
const int FuzzSeed = 20261126;

var report = new StringBuilder();
report.AppendLine("# Reliability runs");
report.AppendLine();
report.AppendLine($"Produced by `dotnet run -c Release --project tests/Logits.Reliability -- --out docs/reliability.md{(quick ? " --quick" : string.Empty)}` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
report.AppendLine($"Machine: {Environment.ProcessorCount} cores, {CpuModel()}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}.");
report.AppendLine();

Console.WriteLine($"fuzzing the CPU backend: {fuzzCpu} cases (seed {FuzzSeed})");
report.AppendLine(Fuzz("CPU", fuzzCpu, FuzzSeed, (d, r, v) => CpuLogitBatch.FromRows(d, r, v)));
Console.WriteLine($"fuzzing the torch backend: {fuzzTorch} cases (seed {FuzzSeed + 1})");
report.AppendLine(Fuzz("TorchSharp", fuzzTorch, FuzzSeed + 1, (d, r, v) => TorchLogitBatch.FromArray(d, r, v)));
Console.WriteLine($"soaking the CPU backend: {soakCpu} pipeline calls");
report.AppendLine(Soak("CPU", soakCpu, (d, r, v) => CpuLogitBatch.FromRows(d, r, v), reuseBatch: true));
Console.WriteLine($"soaking the torch backend: {soakTorch} pipeline calls");
report.AppendLine(Soak("TorchSharp", soakTorch, (d, r, v) => TorchLogitBatch.FromArray(d, r, v), reuseBatch: false));

Console.WriteLine(report.ToString());
if (output is not null)
{
    File.WriteAllText(output, report.ToString());
    Console.WriteLine($"written to {output}");
}

static string Fuzz(string backend, int cases, int seed, Func<float[], int, int, LogitBatch> create)
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
        var contexts = SamplingContext.ForRows(rows);
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

static string Soak(string backend, int calls, Func<float[], int, int, LogitBatch> create, bool reuseBatch)
{
    const int vocab = 32000;
    var data = LogitData.Random(1, vocab, 99);
    var pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 3, RepetitionPenalty = 1.1, FrequencyPenalty = 0.2, PresencePenalty = 0.1 });
    var contexts = SamplingContext.ForRows(1);
    var history = Enumerable.Range(0, 256).Select(i => (i * 7919) % vocab).ToArray();
    contexts[0].SetHistory(history, 64);
    var tokens = new int[1];
    var shared = reuseBatch ? create(data, 1, vocab) : null;
    int warmUp = Math.Max(1000, calls / 100);
    long liveBefore = 0;
    long heapBefore = 0;
    long rssBefore = 0;
    var watch = Stopwatch.StartNew();
    for (int call = 0; call < calls + warmUp; call++)
    {
        if (call == warmUp)
        {
            heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            rssBefore = Process.GetCurrentProcess().WorkingSet64;
            liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            watch.Restart();
        }

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
    }

    double seconds = watch.Elapsed.TotalSeconds;
    long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
    long rssAfter = Process.GetCurrentProcess().WorkingSet64;
    long liveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    shared?.Dispose();
    var text = new StringBuilder();
    text.AppendLine($"## Soak, {backend}");
    text.AppendLine();
    text.AppendLine($"{calls} calls of llama.cpp's default chain with repetition, frequency and presence penalties over a 256-token history, V = {vocab}, after {warmUp} warm-up calls; {seconds:F1} s ({seconds * 1e6 / calls:F1} µs per call).");
    text.AppendLine();
    text.AppendLine("| measure | after warm-up | at the end | growth |");
    text.AppendLine("| --- | --- | --- | --- |");
    text.AppendLine($"| managed heap (bytes, after a full GC) | {heapBefore} | {heapAfter} | {heapAfter - heapBefore} |");
    text.AppendLine($"| resident memory (bytes) | {rssBefore} | {rssAfter} | {rssAfter - rssBefore} |");
    text.AppendLine($"| live torch tensors (dispose-scope statistics) | {liveBefore} | {liveAfter} | {liveAfter - liveBefore} |");
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

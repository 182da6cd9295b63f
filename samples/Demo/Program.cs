// Logits demo: one logit batch through the CPU SIMD backend and the TorchSharp backend.
// Run it with: dotnet run --project samples/Demo -c Release
//
// The same kernel calls run on both backends; the program prints both results side by side
// and exits non-zero if they disagree beyond the numerics contract (1e-5 relative).
using System;
using System.Globalization;
using System.Linq;
using Logits.Tensors;
using Logits.TorchSharp.Tensors;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const string Usage = """
    Usage: dotnet run -c Release --project samples/Demo [-- --help]

    Runs one logit batch through the CPU and TorchSharp backends and prints both results.
    Exit code: 0 when the backends agree, 1 when they do not, 2 for a wrong command line.
    """;
if (args.Length > 0)
{
    bool help = args is ["--help"] or ["-h"];
    if (!help)
    {
        Console.Error.WriteLine($"Unknown argument '{args[0]}'.");
    }

    (help ? Console.Out : Console.Error).WriteLine(Usage);
    return help ? 0 : 2;
}

// Two rows over a vocabulary of 8 tokens. Row 1 has logits above 88.7, where an unstable softmax
// (TensorPrimitives.SoftMax) overflows to NaN, and a removed token (-inf).
const int rows = 2;
const int vocab = 8;
float[] logits =
{
    3.0f, 2.0f, 1.0f, 0.5f, 0.0f, -1.0f, -2.0f, -3.0f,
    120f, 119f, 118.5f, float.NegativeInfinity, 100f, 90f, 118f, 119f,
};

using var cpu = CpuLogitBatch.FromRows(logits, rows, vocab);
using var torchBatch = TorchLogitBatch.FromArray(logits, rows, vocab);
bool agree = true;

foreach (LogitBatch batch in new LogitBatch[] { cpu, torchBatch })
{
    var k = batch.Kernels;
    Console.WriteLine($"=== backend: {k.Name}");

    using var probabilities = batch.CreateLike();
    k.Softmax(batch, probabilities);
    Print("softmax", probabilities);

    var lse = new float[rows];
    k.LogSumExp(batch, lse);
    Console.WriteLine($"  logsumexp        {string.Join("  ", lse.Select(v => v.ToString("F6")))}");

    var argmax = new int[rows];
    k.ArgMax(batch, argmax);
    Console.WriteLine($"  argmax           {string.Join("  ", argmax)}");

    // Top-k 3 then top-p 0.9: thresholds per row, then a -inf mask.
    using var truncated = batch.CreateLike();
    var tau = new float[rows];
    k.KthLargest(batch, new[] { 3, 3 }, tau);
    k.MaskBelow(batch, tau, truncated);
    k.TopPThreshold(truncated, new[] { 0.9, 0.9 }, minTokensToKeep: 1, tau);
    k.MaskBelow(truncated, tau, truncated);
    Print("top-k 3, top-p .9", truncated);

    // Temperature 0.7 is a scale by 1/0.7; sample with fixed uniforms (the same on both backends).
    k.Scale(truncated, 1f / 0.7f, truncated);
    var tokens = new int[rows];
    k.Sample(truncated, new[] { 0.25, 0.75 }, tokens);
    Console.WriteLine($"  sampled tokens   {string.Join("  ", tokens)}");
}

// The two backends must agree.
using (var p1 = cpu.CreateLike())
using (var p2 = torchBatch.CreateLike())
{
    cpu.Kernels.Softmax(cpu, p1);
    torchBatch.Kernels.Softmax(torchBatch, p2);
    var a = p1.ToArray();
    var b = p2.ToArray();
    double worst = a.Zip(b, (x, y) => Math.Abs(x - y) / Math.Max(Math.Abs(x), 1e-30f)).Where(d => !double.IsNaN(d)).DefaultIfEmpty(0).Max();
    agree = a.Zip(b, (x, y) => Math.Abs(x - y) <= (1e-5 * Math.Abs(x)) + 1e-30).All(ok => ok);
    Console.WriteLine($"=== CPU vs torch softmax: worst relative difference {worst:E2} -> {(agree ? "agree" : "DISAGREE")}");
}

return agree ? 0 : 1;

static void Print(string label, LogitBatch batch)
{
    var values = batch.ToArray();
    for (int r = 0; r < batch.Rows; r++)
    {
        var row = values.AsSpan(r * batch.Vocab, batch.Vocab).ToArray();
        Console.WriteLine($"  {(r == 0 ? label : string.Empty),-16} [{string.Join(", ", row.Select(v => float.IsNegativeInfinity(v) ? "-inf" : v.ToString("F4")))}]");
    }
}

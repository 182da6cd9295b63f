// Package-consumer smoke test: a console app restored from the packed Logits packages only.
// Every check runs even when an earlier one fails; the exit code is 0 only if all pass.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Logits.Tensors;
using static TorchSharp.torch;

var failures = new List<string>();

void Check(string name, Action check)
{
    try
    {
        check();
        Console.WriteLine($"ok    {name}");
    }
    catch (Exception e)
    {
        failures.Add(name);
        Console.WriteLine($"FAIL  {name}: {e.GetType().FullName}: {e.Message}");
    }
}

static void Expect(bool condition, string message)
{
    if (!condition)
    {
        throw new InvalidOperationException(message);
    }
}

static string Format(IEnumerable<float> values) =>
    "[" + string.Join(", ", values.Select(v => v.ToString("G7", CultureInfo.InvariantCulture))) + "]";

// Logits near 88.7 and above: a softmax that does not subtract the row max overflows here.
float[] logits = { 88.8f, 87.8f, 1.0f, float.NegativeInfinity };

// The stable-softmax reference in double precision: p_i = exp(z_i - m) / sum_j exp(z_j - m).
double max = logits.Max();
double[] weights = logits.Select(z => Math.Exp(z - max)).ToArray();
double[] expected = weights.Select(w => w / weights.Sum()).ToArray();

Check("Logits.TorchSharp assembly is deployed", () =>
{
    var assembly = Assembly.Load("Logits.TorchSharp");
    Console.WriteLine($"      {assembly.GetName().Name} {assembly.GetName().Version}");
});

Check("CpuLogitBatch.FromRow / ToArray / Kernels.Name", () =>
{
    using var batch = CpuLogitBatch.FromRow(logits);
    Expect(batch.Rows == 1 && batch.Vocab == logits.Length, $"shape [{batch.Rows}, {batch.Vocab}]");
    Expect(batch.ToArray().SequenceEqual(logits), "ToArray differs from the input row");
    Expect(batch.Kernels.Name == "cpu", $"Kernels.Name is '{batch.Kernels.Name}'");
    Console.WriteLine($"      kernels: {batch.Kernels.Name}, row: {Format(batch.ToArray())}");
});

Check("torch softmax (libtorch loads in process)", () =>
{
    using var scope = NewDisposeScope();
    var p = softmax(tensor(logits), 0).data<float>().ToArray();
    Console.WriteLine($"      torch.softmax: {Format(p)}");
    for (int i = 0; i < p.Length; i++)
    {
        Expect(Math.Abs(p[i] - expected[i]) <= 1e-6, $"p[{i}] = {p[i]}, expected {expected[i]}");
    }
});

Check("Logits CPU Kernels.Softmax in place", () =>
{
    using var batch = CpuLogitBatch.FromRow(logits);
    batch.Kernels.Softmax(batch, batch);
    var p = batch.ToArray();
    Console.WriteLine($"      Kernels.Softmax: {Format(p)}");
    for (int i = 0; i < p.Length; i++)
    {
        Expect(Math.Abs(p[i] - expected[i]) <= 1e-6, $"p[{i}] = {p[i]}, expected {expected[i]}");
    }
});

Console.WriteLine(failures.Count == 0 ? "package consumer: all checks passed" : $"package consumer: {failures.Count} check(s) failed");
return failures.Count == 0 ? 0 : 1;

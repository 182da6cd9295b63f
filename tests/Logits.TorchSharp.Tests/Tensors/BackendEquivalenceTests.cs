using System;
using System.Linq;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>
/// CPU and TorchSharp kernels on the same inputs agree within 1e-5 relative (values), and exactly for
/// indices and thresholds, except where an input sits within rounding distance of a decision boundary.
/// </summary>
public sealed class BackendEquivalenceTests
{
    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (var (rows, vocab) in LogitData.Shapes().Where(s => s.Vocab <= 8 || s.Vocab % 2 == 1 || s.Vocab >= 4095))
        {
            data.Add(rows, vocab);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_kernel_agrees_between_backends(int rows, int vocab)
    {
        var data = LogitData.Random(rows, vocab, (rows * 31) + vocab);
        using var cpu = CpuLogitBatch.FromRows(data, rows, vocab);
        using var torchBatch = TorchLogitBatch.FromArray(data, rows, vocab);
        double logScale = Math.Max(1, data.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());

        CompareBatches(cpu, torchBatch, (k, x, d) => k.Softmax(x, d), "softmax", 0);
        CompareBatches(cpu, torchBatch, (k, x, d) => k.LogSoftmax(x, d), "log-softmax", logScale);
        CompareBatches(cpu, torchBatch, (k, x, d) => k.Scale(x, 1.7f, d), "scale", 0);
        CompareBatches(cpu, torchBatch, (k, x, d) => k.Affine(0.5f, x, 0.25f, x, 0f, null, d), "affine", 0);
        var thresholds = Enumerable.Range(0, rows).Select(r => data[(r * vocab) + (r % vocab)]).ToArray();
        CompareBatches(cpu, torchBatch, (k, x, d) => k.MaskBelow(x, thresholds, d), "mask-below", 0);

        var lseCpu = new float[rows];
        var lseTorch = new float[rows];
        cpu.Kernels.LogSumExp(cpu, lseCpu);
        torchBatch.Kernels.LogSumExp(torchBatch, lseTorch);
        for (int r = 0; r < rows; r++)
        {
            Assert.True(Tolerance.Close(lseTorch[r], lseCpu[r], logScale), $"logsumexp row {r}: cpu {lseCpu[r]:R}, torch {lseTorch[r]:R}");
        }

        var argCpu = new int[rows];
        var argTorch = new int[rows];
        cpu.Kernels.ArgMax(cpu, argCpu);
        torchBatch.Kernels.ArgMax(torchBatch, argTorch);
        Assert.Equal(argCpu, argTorch);

        var k = Enumerable.Range(0, rows).Select(r => Math.Min(vocab, 1 + (r * 7))).ToArray();
        var kthCpu = new float[rows];
        var kthTorch = new float[rows];
        cpu.Kernels.KthLargest(cpu, k, kthCpu);
        torchBatch.Kernels.KthLargest(torchBatch, k, kthTorch);
        Assert.Equal(kthCpu, kthTorch);

        var p = Enumerable.Range(0, rows).Select(r => new[] { 0.5, 0.9, 0.95, 0.0 }[r % 4]).ToArray();
        var tauCpu = new float[rows];
        var tauTorch = new float[rows];
        cpu.Kernels.TopPThreshold(cpu, p, 2, tauCpu);
        torchBatch.Kernels.TopPThreshold(torchBatch, p, 2, tauTorch);
        for (int r = 0; r < rows; r++)
        {
            var (_, margin) = ReferenceKernels.TopPThreshold(LogitData.Row(data, vocab, r), r, p[r], 2);
            if (margin > 1e-5)
            {
                Assert.True(tauCpu[r] == tauTorch[r], $"top-p row {r}: cpu {tauCpu[r]:R}, torch {tauTorch[r]:R}");
            }
        }

        var rng = new Random(rows + vocab);
        var u = Enumerable.Range(0, rows).Select(_ => rng.NextDouble()).ToArray();
        var sampleCpu = new int[rows];
        var sampleTorch = new int[rows];
        cpu.Kernels.Sample(cpu, u, sampleCpu);
        torchBatch.Kernels.Sample(torchBatch, u, sampleTorch);
        for (int r = 0; r < rows; r++)
        {
            var (_, margin) = ReferenceKernels.Sample(LogitData.Row(data, vocab, r), r, u[r]);
            if (margin > 1e-5)
            {
                Assert.True(sampleCpu[r] == sampleTorch[r], $"sample row {r}: cpu {sampleCpu[r]}, torch {sampleTorch[r]}, u {u[r]:R}");
            }
        }

        int perRow = Math.Min(vocab, 6);
        var ids = Enumerable.Range(0, rows * perRow).Select(i => (i * 5) % vocab).ToArray();
        var gatheredCpu = new float[ids.Length];
        var gatheredTorch = new float[ids.Length];
        cpu.Kernels.Gather(cpu, ids, gatheredCpu);
        torchBatch.Kernels.Gather(torchBatch, ids, gatheredTorch);
        Assert.Equal(gatheredCpu, gatheredTorch);
        var deltas = ids.Select(i => 0.5f).ToArray();
        CompareBatches(cpu, torchBatch, (kernels, x, d) => kernels.ScatterAdd(x, ids, deltas), "scatter-add", logScale);
    }

    /// <summary>Runs an in-batch operation on copies of both batches and compares the results element-wise.</summary>
    private static void CompareBatches(CpuLogitBatch cpu, TorchLogitBatch torchBatch, Action<ILogitKernels, LogitBatch, LogitBatch> operation, string name, double scale)
    {
        using var cpuOut = cpu.CreateLike();
        using var torchOut = torchBatch.CreateLike();
        cpuOut.CopyFrom(cpu.ToArray());
        torchOut.CopyFrom(cpu.ToArray());
        operation(cpu.Kernels, cpuOut, cpuOut);
        operation(torchBatch.Kernels, torchOut, torchOut);
        var a = cpuOut.ToArray();
        var b = torchOut.ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            if (!Tolerance.Close(b[i], a[i], scale))
            {
                Assert.Fail($"{name}: element {i} (row {i / cpu.Vocab}, token {i % cpu.Vocab}): cpu {a[i]:R}, torch {b[i]:R}");
            }
        }
    }
}

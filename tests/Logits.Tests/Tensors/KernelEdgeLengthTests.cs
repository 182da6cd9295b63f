using System;
using System.Linq;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// Bounds of the CPU kernels (issue 9): every kernel on rows whose length sits at a vector-width edge, held
/// in memory that ends exactly where the row ends, reads and writes nothing outside the row.
/// </summary>
/// <remarks>
/// <c>CpuKernelConformanceTests</c> (the conformance suite) already compares every kernel with the double-precision
/// reference at lengths 1..67, 127..129, 4095..4097 and real vocabularies, on batches from
/// <c>CpuLogitBatch.FromRows</c> (which allocates exactly <c>rows·V</c> floats). This class adds what that
/// leaves out: the lengths 255..257, and two layouts per length that make an overrun visible. (1) The row
/// is a freshly allocated exact-length array, <c>new CpuLogitBatch(new float[V], 1, V)</c>, so a bounds-checked
/// access past the end throws. (2) The row is a slice of a larger array between guard cells holding NaN:
/// a read past either end pulls a NaN into the result (the result then differs from the reference or the
/// kernel reports an invalid logit), and a write past either end changes a guard, which is checked
/// bit for bit. The namespace is <c>Logits.Tests.Tensors</c>, so CI runs this class again with AVX-512 and
/// with AVX2 switched off, covering the Vector256 and Vector128 tails too.
/// </remarks>
public sealed class KernelEdgeLengthTests
{
    private const int Guard = 67;

    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (int v in Enumerable.Range(1, 67).Concat(new[] { 127, 128, 129, 255, 256, 257, 4095, 4096, 4097 }))
        {
            data.Add(v);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Every_kernel_stays_inside_an_exact_length_row(int vocab)
    {
        for (int variant = 0; variant < 3; variant++)
        {
            var row = LogitData.Random(1, vocab, (vocab * 3) + variant);
            CheckAllKernels(row, vocab, guarded: false);
            CheckAllKernels(row, vocab, guarded: true);
        }
    }

    private static void CheckAllKernels(float[] row, int vocab, bool guarded)
    {
        ILogitKernels kernels = new CpuLogitBatch(1, 1).Kernels;
        string where = $"V = {vocab}, {(guarded ? "NaN-guarded slice" : "exact-length array")}";
        double logScale = Math.Max(1, row.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());

        Check(row, guarded, (x, d) => kernels.Softmax(x, d), where + ", softmax", actual => AssertClose(actual, ReferenceKernels.Softmax(row, 0), 0, where + ", softmax"));
        Check(row, guarded, (x, d) => kernels.LogSoftmax(x, d), where + ", log-softmax", actual => AssertClose(actual, ReferenceKernels.LogSoftmax(row, 0), logScale, where + ", log-softmax"));
        Check(row, guarded, (x, d) => kernels.Scale(x, new[] { 1.7f }, d), where + ", scale", actual => AssertClose(actual, ReferenceKernels.Scale(row, 1.7f), 0, where + ", scale"));
        Check(row, guarded, (x, d) => kernels.Affine(0.5f, x, 0.25f, x, 0f, null, d), where + ", affine", actual => AssertClose(actual, ReferenceKernels.Affine(0.5, row, 0.25, row, 0, null), 0, where + ", affine"));
        float threshold = row[vocab / 2];
        Check(row, guarded, (x, d) => kernels.MaskBelow(x, new[] { threshold }, d), where + ", mask-below", actual => Assert.Equal(ReferenceKernels.MaskBelow(row, threshold), actual));
        int[] ids = { 0, vocab - 1, vocab / 2, vocab / 3 };
        float[] deltas = { 0.5f, -1f, 2f, 0.25f };
        Check(row, guarded, (x, _) => kernels.ScatterAdd(x, ids, deltas), where + ", scatter-add", actual => AssertClose(actual, ReferenceKernels.ScatterAdd(row, ids, deltas), logScale, where + ", scatter-add"));
        Check(row, guarded, (x, _) => kernels.Scatter(x, ids, deltas), where + ", scatter", actual => Assert.Equal(ReferenceKernels.Scatter(row, ids, deltas), actual));

        // Reductions: the row is only read; the guards must still be intact.
        var lse = new float[1];
        Check(row, guarded, (x, _) => kernels.LogSumExp(x, lse), where + ", logsumexp", _ => Assert.True(Tolerance.Close(lse[0], ReferenceKernels.LogSumExp(row, 0), logScale), $"{where}, logsumexp: {lse[0]:R}"));
        var argmax = new int[1];
        Check(row, guarded, (x, _) => kernels.ArgMax(x, argmax), where + ", argmax", _ => Assert.Equal(ReferenceKernels.ArgMax(row, 0), argmax[0]));
        foreach (int k in new[] { 1, Math.Max(1, vocab / 3), vocab })
        {
            var kth = new float[1];
            Check(row, guarded, (x, _) => kernels.KthLargest(x, new[] { k }, kth), where + $", k-th largest (k {k})", _ => Assert.Equal(ReferenceKernels.KthLargest(row, k), kth[0]));
        }

        foreach (double p in new[] { 0.5, 0.9, 0.999 })
        {
            var tau = new float[1];
            var (expected, margin) = ReferenceKernels.TopPThreshold(row, 0, p, 1);
            Check(row, guarded, (x, _) => kernels.TopPThreshold(x, new[] { p }, 1, tau), where + $", top-p {p}", _ => Assert.True(margin <= 1e-5 || tau[0] == expected, $"{where}, top-p {p}: {tau[0]:R} instead of {expected:R}"));
        }

        foreach (double u in new[] { 0.0, 0.37, 0.999999 })
        {
            var token = new int[1];
            var (expected, margin) = ReferenceKernels.Sample(row, 0, u);
            Check(row, guarded, (x, _) => kernels.Sample(x, new[] { u }, token), where + $", sample u {u}", _ => Assert.True(margin <= 1e-5 || token[0] == expected, $"{where}, sample u {u}: {token[0]} instead of {expected}"));
        }

        var gathered = new float[ids.Length];
        Check(row, guarded, (x, _) => kernels.Gather(x, ids, gathered), where + ", gather", _ => Assert.Equal(ids.Select(i => row[i]), gathered));
    }

    /// <summary>
    /// Runs <paramref name="kernel"/> with a fresh source and a fresh destination in the requested layout,
    /// checks the guards of both, then hands the destination's values to <paramref name="verify"/>.
    /// </summary>
    private static void Check(float[] row, bool guarded, Action<CpuLogitBatch, CpuLogitBatch> kernel, string what, Action<float[]> verify)
    {
        int vocab = row.Length;
        float[] sourceStore = guarded ? Guarded(vocab) : new float[vocab];
        float[] destinationStore = guarded ? Guarded(vocab) : new float[vocab];
        int offset = guarded ? Guard : 0;
        row.CopyTo(sourceStore, offset);
        var x = new CpuLogitBatch(sourceStore.AsMemory(offset, vocab), 1, vocab);
        var destination = new CpuLogitBatch(destinationStore.AsMemory(offset, vocab), 1, vocab);
        kernel(x, destination);
        if (guarded)
        {
            AssertGuards(sourceStore, vocab, what + " (source)");
            AssertGuards(destinationStore, vocab, what + " (destination)");
        }

        // In-place kernels (scatter) leave their result in the source; the others in the destination.
        bool inPlace = what.Contains("scatter", StringComparison.Ordinal);
        verify((inPlace ? sourceStore : destinationStore).AsSpan(offset, vocab).ToArray());
    }

    private static float[] Guarded(int vocab)
    {
        var store = new float[vocab + (2 * Guard)];
        store.AsSpan(0, Guard).Fill(float.NaN);
        store.AsSpan(Guard + vocab).Fill(float.NaN);
        return store;
    }

    private static void AssertGuards(float[] store, int vocab, string what)
    {
        int expected = BitConverter.SingleToInt32Bits(float.NaN);
        for (int i = 0; i < store.Length; i++)
        {
            if ((i < Guard || i >= Guard + vocab) && BitConverter.SingleToInt32Bits(store[i]) != expected)
            {
                Assert.Fail($"{what}: wrote {store[i]:R} at {(i < Guard ? $"{Guard - i} before the row" : $"{i - Guard - vocab} after the row's end")}");
            }
        }
    }

    private static void AssertClose(float[] actual, double[] expected, double scale, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Tolerance.Close(actual[i], expected[i], scale), $"{what}: token {i}: {actual[i]:R} instead of {expected[i]:R}");
        }
    }
}

using System;
using System.Buffers;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void KthLargest(LogitBatch x, ReadOnlySpan<int> k, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, k.Length, nameof(k));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        for (int r = 0; r < k.Length; r++)
        {
            if (k[r] < 1 || k[r] > source.Vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[r], $"must be in [1, {source.Vocab}] (row {r})");
            }
        }

        var ks = RentCopy(k);
        var results = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new KthLargestJob(source.Memory, ks, results, source.Vocab));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ks);
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>The k-th largest value of a row (duplicates counted; -∞ counts as a value).</summary>
    internal static float KthLargestRow(ReadOnlySpan<float> x, int k, int row)
    {
        float m = RowMath.CheckedMax(x, row);
        if (k == 1)
        {
            return m;
        }

        // Small k (top-k 40, 50): one pass with a min-heap; large k: copy and quickselect.
        bool useHeap = k <= Selection.HeapLimit && k <= x.Length / 8;
        var scratch = ArrayPool<float>.Shared.Rent(useHeap ? k : x.Length);
        try
        {
            if (useHeap)
            {
                return Selection.TopValues(x, scratch.AsSpan(0, k));
            }

            var values = scratch.AsSpan(0, x.Length);
            x.CopyTo(values);
            return Selection.SelectKthLargest(values, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private readonly struct KthLargestJob(Memory<float> x, int[] k, float[] results, int vocab) : IRowJob
    {
        public void Run(int row) => results[row] = KthLargestRow(x.Span.Slice(row * vocab, vocab), k[row], row);
    }
}

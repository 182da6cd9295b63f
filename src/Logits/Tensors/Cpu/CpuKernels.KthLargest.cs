
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
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[r], $"must be in [1, {source.Vocab}] (row {source.RowOffset + r})");
            }
        }

        var ks = RentCopy(k);
        var results = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new KthLargestJob(source.Storage, ks, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ks);
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>The k-th largest value of a row (duplicates counted; -∞ counts as a value).</summary>
    internal static float KthLargestRow(ReadOnlySpan<float> x, int k, int row) =>
        KthLargestAfterCheck(x, k, RowMath.CheckedMax(x, row));

    /// <summary>The k-th largest of a row already checked for NaN/+∞, whose maximum is <paramref name="m"/>.</summary>
    private static float KthLargestAfterCheck(ReadOnlySpan<float> x, int k, float m)
    {
        if (k == 1)
        {
            return m;
        }

        // The V-th largest is the minimum (classifier-free guidance asks for it to find removed tokens): one pass.
        if (k == x.Length)
        {
            return System.Numerics.Tensors.TensorPrimitives.Min(x);
        }

        // Short rows: bisection with SIMD counts, whatever the order of the values.
        if (x.Length <= OrderStatistics.BisectionLimit)
        {
            return OrderStatistics.KthLargestByBisection(x, k, m);
        }

        // Small k (top-k 40, 50): one pass with a min-heap; large k: copy and quickselect.
        bool useHeap = k <= OrderStatistics.HeapLimit && k <= x.Length / 8;
        var scratch = ArrayPool<float>.Shared.Rent(useHeap ? k : x.Length);
        try
        {
            if (useHeap)
            {
                return OrderStatistics.TopValues(x, scratch.AsSpan(0, k));
            }

            var values = scratch.AsSpan(0, x.Length);
            x.CopyTo(values);
            return OrderStatistics.SelectKthLargest(values, k);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private readonly struct KthLargestJob(Memory<float> x, int[] k, float[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            results[row] = support is null ? KthLargestRow(values, k[row], row) : KthLargestTracked(values, k[row], row, support);
        }
    }

    /// <summary>
    /// <see cref="KthLargestRow"/> during a pipeline call: k = 1 is the row maximum (<see cref="RowMaxOf"/>, remembered
    /// until the row is written), and a row with a known support is searched there (beyond it every entry is −∞).
    /// </summary>
    private static float KthLargestTracked(ReadOnlySpan<float> x, int k, int row, RowSupport support)
    {
        if (k == 1)
        {
            return RowMaxOf(x, row, support);
        }

        if (support.TryGetSupport(row, out var ids))
        {
            return k > ids.Length ? float.NegativeInfinity : RowSupport.Reduce<KthLargestReduction, float>(x, ids, row, new KthLargestReduction(k));
        }

        // The known (checked) maximum spares the checking pass; block maxima taken with it spare most of the row.
        float maximum = RowMaxOf(x, row, support);
        if (support.TryGetBlockMaxima(row, out var blockMaxima) && BlockMaxima.Pays(k, blockMaxima.Length))
        {
            var heap = ArrayPool<float>.Shared.Rent(k);
            try
            {
                return BlockMaxima.KthLargest(x, blockMaxima, maximum, heap.AsSpan(0, k));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(heap);
            }
        }

        return KthLargestAfterCheck(x, k, maximum);
    }

    private readonly struct KthLargestReduction(int k) : IRowReduction<float>
    {
        public float Run(ReadOnlySpan<float> x, int row) => KthLargestRow(x, k, row);
    }
}

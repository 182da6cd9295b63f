
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <summary>The top-p stopping tolerance (library decision, docs/algorithms/truncation.md#top-p).</summary>
    internal const double TopPTolerance = 1e-6;

    public void TopPThreshold(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, p.Length, nameof(p));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        for (int r = 0; r < p.Length; r++)
        {
            if (!(p[r] >= 0 && p[r] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(p), p[r], $"must be in [0, 1] (row {source.RowOffset + r})");
            }
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        var ps = RentCopy(p);
        var results = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new TopPJob(source.Storage, ps, minTokensToKeep, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(ps);
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>
    /// The inclusive top-p cut of one row without a sort: <see cref="MassCut.Threshold"/> finds the value at which the
    /// rank-order running mass reaches <c>p − 1e-6</c> of the row's total (a mass histogram by value, then an exact
    /// refinement of the one bin that straddles the target), then the <paramref name="minTokensToKeep"/> floor.
    /// </summary>
    internal static float TopPThresholdRow(ReadOnlySpan<float> x, double p, int minTokensToKeep, int row) =>
        TopPThresholdRow(x, RowMath.NonEmptyMax(x, row, "top-p"), p, minTokensToKeep);

    /// <summary><see cref="TopPThresholdRow(ReadOnlySpan{float}, double, int, int)"/> on a checked row whose (finite) maximum is <paramref name="m"/>.</summary>
    internal static float TopPThresholdRow(ReadOnlySpan<float> x, float m, double p, int minTokensToKeep)
    {
        if (p >= 1)
        {
            return float.NegativeInfinity;
        }

        float threshold = MassCut.Threshold(x, m, p - TopPTolerance);
        if (minTokensToKeep > 1)
        {
            // The floor: at least min(minTokensToKeep, finite tokens) kept, i.e. τ at most the k-th largest value.
            int kept = OrderStatistics.CountAtLeast(x, threshold);
            if (kept < minTokensToKeep)
            {
                int finite = OrderStatistics.CountAtLeast(x, float.MinValue);
                int k = Math.Min(minTokensToKeep, finite);
                if (kept < k)
                {
                    threshold = Math.Min(threshold, KthLargestAfterCheck(x, k, m));
                }
            }
        }

        return threshold;
    }

    private readonly struct TopPJob(Memory<float> x, double[] p, int minTokensToKeep, float[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            // On the support: the same cut, since the tokens outside it carry no probability (with at least
            // minTokensToKeep supported tokens, the kept-count floor never reaches outside it either).
            var values = x.Span.Slice(row * vocab, vocab);
            if (support is not null && support.TryGetSupport(row, out var ids) && ids.Length >= minTokensToKeep)
            {
                results[row] = RowSupport.Reduce<TopPReduction, float>(values, ids, row, new TopPReduction(p[row], minTokensToKeep));
            }
            else if (support is not null && support.TryGetMaximum(row, out float m) && !float.IsNegativeInfinity(m))
            {
                // Inside a pipeline call the row was checked and its maximum is known: no second pass for it.
                results[row] = TopPThresholdRow(values, m, p[row], minTokensToKeep);
            }
            else
            {
                results[row] = TopPThresholdRow(values, p[row], minTokensToKeep, row);
            }
        }
    }

    private readonly struct TopPReduction(double p, int minTokensToKeep) : IRowReduction<float>
    {
        public float Run(ReadOnlySpan<float> x, int row) => TopPThresholdRow(x, p, minTokensToKeep, row);
    }
}


namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <summary>The first window of the adaptive-k top-p search (docs/algorithms/truncation.md#top-p).</summary>
    internal const int TopPInitialWindow = 64;

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
                ThrowHelper.ThrowArgumentOutOfRange(nameof(p), p[r], $"must be in [0, 1] (row {r})");
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
    /// The inclusive top-p cut of one row without a full sort: the exact log-sum-exp of the whole row,
    /// then the top-K window (selected, then sorted), growing K ×4 until the window's mass reaches p.
    /// Because the normaliser covers the whole row, the result equals the full-sort result.
    /// </summary>
    internal static float TopPThresholdRow(ReadOnlySpan<float> x, double p, int minTokensToKeep, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "top-p");
        if (p >= 1)
        {
            return float.NegativeInfinity;
        }

        double logSum = m + Math.Log(RowMath.SumExpShifted(x, m));
        double target = p - TopPTolerance;
        int window = Math.Min(x.Length, Math.Max(TopPInitialWindow, minTokensToKeep));
        var scratch = ArrayPool<float>.Shared.Rent(x.Length);
        try
        {
            var values = scratch.AsSpan(0, x.Length);
            while (true)
            {
                var top = values[..window];
                if (window < x.Length && window <= OrderStatistics.HeapLimit && window <= x.Length / 8)
                {
                    // One pass with a min-heap leaves exactly the top values of the window in 'top'.
                    OrderStatistics.TopValues(x, top);
                }
                else
                {
                    x.CopyTo(values);
                    if (window < x.Length)
                    {
                        OrderStatistics.SelectKthLargest(values, window);
                    }
                }

                // Ascending sort with the primitive comparer (several times faster than a descending
                // comparison delegate), then walk from the top.
                top.Sort();

                // The window holds every finite token when it reaches the whole row or ends in -inf.
                bool complete = window == x.Length || float.IsNegativeInfinity(top[0]);
                double cumulative = 0;
                int finiteInWindow = 0;
                int count = -1;
                for (int i = top.Length - 1; i >= 0 && !float.IsNegativeInfinity(top[i]); i--)
                {
                    finiteInWindow++;
                    cumulative += Math.Exp(top[i] - logSum);
                    if (count < 0 && cumulative >= target)
                    {
                        count = finiteInWindow;
                    }

                    if (count >= 0 && finiteInWindow >= minTokensToKeep)
                    {
                        break;
                    }
                }

                if (count < 0 && !complete)
                {
                    window = (int)Math.Min(x.Length, 4L * window);
                    if (window > OrderStatistics.HeapLimit || window > x.Length / 8)
                    {
                        // A flat distribution: the nucleus is a large part of the row. Bucket the mass by
                        // value instead of selecting and sorting ever larger windows.
                        return TopPByHistogram(x, m, logSum, target, minTokensToKeep, values);
                    }

                    continue;
                }

                if (count < 0)
                {
                    // Rounding left the total mass just short of p: keep every finite token.
                    count = finiteInWindow;
                }

                // minTokensToKeep <= window unless the window already holds every finite token.
                count = Math.Max(count, Math.Min(minTokensToKeep, finiteInWindow));
                return top[top.Length - count];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Value buckets below the row maximum used by <see cref="TopPByHistogram"/>.</summary>
    private const int TopPBuckets = 4096;

    /// <summary>The value range bucketed below the maximum; lower values (p &lt; e^-104) share one tail bucket.</summary>
    private const double TopPBucketRange = 104;

    /// <summary>
    /// Top-p for rows whose nucleus is large: one pass puts every finite token's probability (float32 SIMD
    /// exp, accumulated in float64) into value buckets below the maximum; a walk from the top finds the bucket
    /// where the mass reaches the target; only that bucket's values are gathered and sorted to find the exact
    /// cut. Buckets are ordered by value, so the result is the rank-order prefix rule of the sorted method.
    /// </summary>
    private static float TopPByHistogram(ReadOnlySpan<float> x, float m, double logSum, double target, int minTokensToKeep, Span<float> scratch)
    {
        var mass = ArrayPool<double>.Shared.Rent(TopPBuckets + 1);
        var counts = ArrayPool<int>.Shared.Rent(TopPBuckets + 1);
        try
        {
            Array.Clear(mass, 0, TopPBuckets + 1);
            Array.Clear(counts, 0, TopPBuckets + 1);
            double scale = TopPBuckets / TopPBucketRange;

            // p_i = exp(z_i - m) / S: m is one of the logits, so z - m carries no rounding of a large
            // log-sum-exp into every probability (that would bias the whole prefix by ~|lse|·2^-24).
            double inverseSum = Math.Exp(m - logSum);
            Span<float> buffer = stackalloc float[SampleChunkLength];
            int finite = 0;
            for (int start = 0; start < x.Length; start += SampleChunkLength)
            {
                var chunk = x.Slice(start, Math.Min(SampleChunkLength, x.Length - start));
                var w = buffer[..chunk.Length];
                VectorExp.ExpShiftedSum(chunk, m, w);
                for (int j = 0; j < chunk.Length; j++)
                {
                    float z = chunk[j];
                    if (float.IsNegativeInfinity(z))
                    {
                        continue;
                    }

                    int bucket = Bucket(m, z, scale);
                    mass[bucket] += w[j] * inverseSum;
                    counts[bucket]++;
                    finite++;
                }
            }

            double cumulative = 0;
            int above = 0;
            int boundary = -1;
            for (int b = 0; b <= TopPBuckets; b++)
            {
                if (cumulative + mass[b] >= target)
                {
                    boundary = b;
                    break;
                }

                cumulative += mass[b];
                above += counts[b];
            }

            if (boundary < 0)
            {
                // Rounding left the total mass just short of p: keep every finite token.
                return float.NegativeInfinity;
            }

            // Gather the boundary bucket, sort it, and walk it from the top in float64.
            int n = 0;
            foreach (float z in x)
            {
                if (!float.IsNegativeInfinity(z) && Bucket(m, z, scale) == boundary)
                {
                    scratch[n++] = z;
                }
            }

            var bucketValues = scratch[..n];
            bucketValues.Sort();
            float threshold = bucketValues[0];
            int kept = above;
            for (int i = n - 1; i >= 0; i--)
            {
                kept++;
                cumulative += Math.Exp(bucketValues[i] - logSum);
                if (cumulative >= target)
                {
                    threshold = bucketValues[i];
                    break;
                }
            }

            int mustKeep = Math.Min(minTokensToKeep, finite);
            if (kept < mustKeep)
            {
                x.CopyTo(scratch);
                threshold = Math.Min(threshold, OrderStatistics.SelectKthLargest(scratch[..x.Length], mustKeep));
            }

            return threshold;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(mass);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    private static int Bucket(float m, float z, double scale)
    {
        double offset = (m - (double)z) * scale;
        return offset >= TopPBuckets ? TopPBuckets : (int)offset;
    }

    private readonly struct TopPJob(Memory<float> x, double[] p, int minTokensToKeep, float[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            // On the support: the same cut, since the tokens outside it carry no probability (with at least
            // minTokensToKeep supported tokens, the kept-count floor never reaches outside it either).
            var values = x.Span.Slice(row * vocab, vocab);
            results[row] = support is not null && support.TryGetSupport(row, out var ids) && ids.Length >= minTokensToKeep
                ? RowSupport.Reduce<TopPReduction, float>(values, ids, row, new TopPReduction(p[row], minTokensToKeep))
                : TopPThresholdRow(values, p[row], minTokensToKeep, row);
        }
    }

    private readonly struct TopPReduction(double p, int minTokensToKeep) : IRowReduction<float>
    {
        public float Run(ReadOnlySpan<float> x, int row) => TopPThresholdRow(x, p, minTokensToKeep, row);
    }
}

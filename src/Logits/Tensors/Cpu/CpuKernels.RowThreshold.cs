
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <see cref="RowStatistics"/> with the statistics the rules need (only <see cref="RowMax"/> when they need none beyond
    /// the maximum; the maxima are remembered within a pipeline call),
    /// the float64 thresholds, <see cref="KthLargest"/> when <paramref name="minTokensToKeep"/> is above 1, then
    /// <see cref="MaskBelow"/>: the thresholds are host values here anyway.
    /// </remarks>
    public void MaskBelowRowThreshold(LogitBatch x, ReadOnlySpan<RowThresholdRule> rules, int minTokensToKeep, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, rules.Length, nameof(rules));
        RowThresholdRule.Validate(rules, nameof(rules));
        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        int rows = source.Rows;
        var kinds = RowStatisticKinds.None;
        foreach (var rule in rules)
        {
            kinds |= rule.Kinds;
        }

        var statistics = ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        var thresholds = ArrayPool<float>.Shared.Rent(rows);
        var kth = minTokensToKeep == 1 ? null : ArrayPool<float>.Shared.Rent(rows);
        var k = kth is null ? null : ArrayPool<int>.Shared.Rent(rows);
        try
        {
            if (kinds == RowStatisticKinds.None)
            {
                // Only the maxima (min-p with keep-at-least): spare the finite-count pass; an empty row's maximum is -inf.
                var maxima = thresholds.AsSpan(0, rows);
                RowMax(source, maxima);
                for (int r = 0; r < rows; r++)
                {
                    statistics[r] = new LogitRowStatistics(float.IsNegativeInfinity(maxima[r]) ? 0 : 1, maxima[r], double.NaN, double.NaN, double.NaN, double.NaN);
                }
            }
            else
            {
                RowStatistics(source, kinds, statistics.AsSpan(0, rows));
            }
            if (kth is not null)
            {
                Array.Fill(k!, Math.Min(minTokensToKeep, source.Vocab), 0, rows);
                KthLargest(source, k.AsSpan(0, rows), kth.AsSpan(0, rows));
            }

            for (int r = 0; r < rows; r++)
            {
                var stats = statistics[r];
                if (stats.Finite == 0)
                {
                    thresholds[r] = float.NegativeInfinity;
                    continue;
                }

                // Rounded once, then lowered to the k-th largest (the maximum for k = 1) so the row keeps k tokens.
                float cut = (float)rules[r].Threshold(stats.Max, stats.LogSumExp, stats.Entropy, stats.StandardDeviation);
                thresholds[r] = Math.Min(cut, kth is null ? stats.Max : kth[r]);
            }

            MaskBelow(source, thresholds.AsSpan(0, rows), destination);
        }
        finally
        {
            ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
            ArrayPool<float>.Shared.Return(thresholds);
            if (kth is not null)
            {
                ArrayPool<float>.Shared.Return(kth);
                ArrayPool<int>.Shared.Return(k!);
            }
        }
    }
}

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>The composition <see cref="MaskTopChoicesComposed"/> on this backend's kernels.</remarks>
    public void MaskTopChoices(LogitBatch x, ReadOnlySpan<double> threshold, int minTokensToKeep, ReadOnlySpan<int> protectedIds, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        MaskTopChoicesComposed(this, source, threshold, minTokensToKeep, protectedIds, destination);
    }

    /// <summary>The argument checks of <see cref="ILogitKernels.MaskTopChoices"/> (shared with the torch backend).</summary>
    internal static void ValidateTopChoices(int rows, int vocab, ReadOnlySpan<double> threshold, int minTokensToKeep, ReadOnlySpan<int> protectedIds)
    {
        EnsurePerRow(rows, threshold.Length, nameof(threshold));
        for (int r = 0; r < rows; r++)
        {
            if (!(threshold[r] >= 0))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(threshold), threshold[r], $"must be at least 0 (+infinity leaves the row alone; row {r})");
            }
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        for (int j = 0; j < protectedIds.Length; j++)
        {
            if ((uint)protectedIds[j] >= (uint)vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(protectedIds), protectedIds[j], $"must be in [0, {vocab}) (position {j})");
            }
        }
    }

    /// <summary>
    /// <see cref="ILogitKernels.MaskTopChoices"/> as a composition on <paramref name="kernels"/> (the CPU kernel, and the
    /// torch kernel outside a pipeline call): <see cref="ILogitKernels.RowStatistics"/> (log-sum-exp), the
    /// <c>⌊1/threshold⌋ + 2</c> largest values of every row (at most that many tokens can reach the threshold; all of them
    /// in the rare case where rounding says otherwise), the protected values, and one <see cref="ILogitKernels.MaskOutside"/>.
    /// </summary>
    internal static void MaskTopChoicesComposed(ILogitKernels kernels, LogitBatch x, ReadOnlySpan<double> threshold, int minTokensToKeep, ReadOnlySpan<int> protectedIds, LogitBatch destination)
    {
        int rows = x.Rows;
        int vocab = x.Vocab;
        ValidateTopChoices(rows, vocab, threshold, minTokensToKeep, protectedIds);
        var statistics = ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        var lower = ArrayPool<float>.Shared.Rent(rows);
        var upper = ArrayPool<float>.Shared.Rent(rows);
        float[]? largest = null;
        float[]? protectedValues = null;
        int[]? ids = null;
        try
        {
            kernels.RowStatistics(x, RowStatisticKinds.LogSumExp, statistics.AsSpan(0, rows));
            double smallestThreshold = 1;
            for (int r = 0; r < rows; r++)
            {
                smallestThreshold = Math.Min(smallestThreshold, threshold[r]);
            }

            int count = smallestThreshold > 0 ? (int)Math.Min(vocab, Math.Floor(1 / smallestThreshold) + 2) : vocab;
            largest = ArrayPool<float>.Shared.Rent(rows * count);
            kernels.LargestValues(x, count, largest.AsSpan(0, rows * count));
            int width = protectedIds.Length;
            if (width > 0)
            {
                ids = ArrayPool<int>.Shared.Rent(rows * width);
                protectedValues = ArrayPool<float>.Shared.Rent(rows * width);
                for (int r = 0; r < rows; r++)
                {
                    protectedIds.CopyTo(ids.AsSpan(r * width, width));
                }

                kernels.Gather(x, ids.AsSpan(0, rows * width), protectedValues.AsSpan(0, rows * width));
            }

            bool anyCut = false;
            for (int r = 0; r < rows; r++)
            {
                lower[r] = float.NegativeInfinity;
                upper[r] = float.PositiveInfinity;
                if (double.IsPositiveInfinity(threshold[r]))
                {
                    continue;
                }

                var protectedRow = protectedValues is null ? ReadOnlySpan<float>.Empty : protectedValues.AsSpan(r * width, width);
                float cut = TopChoicesCut(largest.AsSpan(r * count, count), statistics[r], threshold[r], minTokensToKeep, protectedRow, vocab);
                if (float.IsNaN(cut))
                {
                    // Rare (see TopChoicesCut): read every value of every row and start again (the cut cannot ask twice).
                    ArrayPool<float>.Shared.Return(largest);
                    count = vocab;
                    largest = ArrayPool<float>.Shared.Rent(rows * count);
                    kernels.LargestValues(x, count, largest.AsSpan(0, rows * count));
                    anyCut = false;
                    r = -1;
                    continue;
                }

                upper[r] = cut;
                anyCut |= cut != float.PositiveInfinity;
            }

            if (anyCut || !ReferenceEquals(x, destination))
            {
                kernels.MaskOutside(x, lower.AsSpan(0, rows), upper.AsSpan(0, rows), destination);
            }
        }
        finally
        {
            ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
            ArrayPool<float>.Shared.Return(lower);
            ArrayPool<float>.Shared.Return(upper);
            if (largest is not null)
            {
                ArrayPool<float>.Shared.Return(largest);
            }

            if (ids is not null)
            {
                ArrayPool<int>.Shared.Return(ids);
                ArrayPool<float>.Shared.Return(protectedValues!);
            }
        }
    }

    /// <summary>
    /// One row's cut from its largest values (descending): the least likely qualifier's logit, <c>+∞</c> for no removal, or
    /// NaN when every value read qualifies although fewer than the whole row were read (at huge logits ln S is lost in
    /// rounding and tied tokens each get p = 1): the caller then reads the whole row.
    /// </summary>
    private static float TopChoicesCut(ReadOnlySpan<float> largest, in LogitRowStatistics statistics, double threshold, int minTokensToKeep, ReadOnlySpan<float> protectedValues, int vocab)
    {
        const float Nothing = float.PositiveInfinity;
        double lse = statistics.LogSumExp;
        int qualifiers = 0;
        double minQualifier = double.PositiveInfinity;
        float leastLikely = Nothing;
        foreach (float value in largest)
        {
            double p = Math.Exp(value - lse);
            if (float.IsNegativeInfinity(value) || !(p >= threshold))
            {
                break;
            }

            qualifiers++;
            minQualifier = p;
            leastLikely = value;
        }

        if (qualifiers == largest.Length && largest.Length < vocab)
        {
            return float.NaN;
        }

        if (qualifiers < 2)
        {
            return Nothing;
        }

        int removed = 0;
        foreach (float value in largest[..qualifiers])
        {
            if (Math.Exp(value - lse) > minQualifier)
            {
                removed++;
            }
        }

        if (removed == 0 || statistics.Finite - removed < minTokensToKeep)
        {
            return Nothing;
        }

        foreach (float value in protectedValues)
        {
            if (value > leastLikely)
            {
                return Nothing;
            }
        }

        return leastLikely;
    }
}

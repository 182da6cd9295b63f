
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks><see cref="KthLargest"/> then <see cref="MaskBelow"/>: the thresholds are host values here anyway.</remarks>
    public void MaskBelowKthLargest(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, k.Length, nameof(k));
        var thresholds = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            KthLargest(source, k, thresholds.AsSpan(0, source.Rows));
            MaskBelow(source, thresholds.AsSpan(0, source.Rows), destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thresholds);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// <see cref="TopPThreshold"/> then <see cref="MaskBelow"/>. The row maxima come first (remembered within a pipeline
    /// call): an all-<c>-∞</c> row gets threshold <c>-∞</c> instead of the threshold kernel's exception.
    /// </remarks>
    public void MaskBelowTopP(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, p.Length, nameof(p));
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

        int rows = source.Rows;
        var thresholds = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            var cut = thresholds.AsSpan(0, rows);
            RowMax(source, cut);
            bool anyEmpty = false;
            foreach (float max in cut)
            {
                anyEmpty |= float.IsNegativeInfinity(max);
            }

            if (!anyEmpty)
            {
                TopPThreshold(source, p, minTokensToKeep, cut);
            }
            else
            {
                // The rare path: row by row around the empty rows.
                for (int r = 0; r < rows; r++)
                {
                    cut[r] = float.IsNegativeInfinity(cut[r])
                        ? float.NegativeInfinity
                        : TopPThresholdRow(source.Storage.Span.Slice(r * source.Vocab, source.Vocab), p[r], minTokensToKeep, r);
                }
            }

            MaskBelow(source, cut, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thresholds);
        }
    }

    /// <inheritdoc />
    /// <remarks><see cref="RowMax"/> (remembered within a pipeline call), the float64 sum, then <see cref="MaskBelow"/>.</remarks>
    public void MaskBelowMaxPlus(LogitBatch x, ReadOnlySpan<double> offsets, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, offsets.Length, nameof(offsets));
        ValidateOffsets(offsets, source.RowOffset);
        int rows = source.Rows;
        var thresholds = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            var cut = thresholds.AsSpan(0, rows);
            RowMax(source, cut);
            for (int r = 0; r < rows; r++)
            {
                cut[r] = (float)(cut[r] + offsets[r]);
            }

            MaskBelow(source, cut, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thresholds);
        }
    }

    /// <summary>Offsets of <see cref="MaskBelowMaxPlus"/>: not NaN, at most 0.</summary>
    internal static void ValidateOffsets(ReadOnlySpan<double> offsets, int rowOffset = 0)
    {
        for (int r = 0; r < offsets.Length; r++)
        {
            if (!(offsets[r] <= 0))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(offsets), offsets[r], $"must be at most 0 and not NaN (row {rowOffset + r})");
            }
        }
    }
}

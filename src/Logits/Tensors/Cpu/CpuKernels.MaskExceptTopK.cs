namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <see cref="KthLargest"/> and <see cref="MaskBelow"/> (ties kept), then per row whose threshold is finite one scan of
    /// the masked row (of its support when known, ascending) that counts the entries above <c>τ</c> and removes the tied
    /// entries past <c>k</c>, highest ids first. The row maxima stay (the lowest-id tie is always kept).
    /// </remarks>
    public void MaskExceptTopK(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination)
    {
        var (source, target) = AsCpuPair(x, destination, k.Length, nameof(k));
        int rows = source.Rows;
        int vocab = source.Vocab;
        var thresholds = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            KthLargest(source, k, thresholds.AsSpan(0, rows));
            MaskBelow(source, thresholds.AsSpan(0, rows), target);
            for (int r = 0; r < rows; r++)
            {
                float threshold = thresholds[r];
                if (float.IsNegativeInfinity(threshold))
                {
                    continue;
                }

                var row = target.Storage.Span.Slice(r * vocab, vocab);
                if (target.Support is { } support && support.TryGetSupport(r, out var ids))
                {
                    DropTiesPastK(row, ids, threshold, k[r]);
                }
                else
                {
                    DropTiesPastK(row, threshold, k[r]);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thresholds);
        }
    }

    /// <summary>Removes the entries equal to <paramref name="threshold"/> past the first <c>k - above</c> of them (dense row).</summary>
    private static void DropTiesPastK(Span<float> row, float threshold, int k)
    {
        int above = 0;
        for (int i = 0; i < row.Length; i++)
        {
            above += row[i] > threshold ? 1 : 0;
        }

        int tiesToKeep = k - above;
        for (int i = 0; i < row.Length; i++)
        {
            if (row[i] == threshold && tiesToKeep-- <= 0)
            {
                row[i] = float.NegativeInfinity;
            }
        }
    }

    /// <summary><see cref="DropTiesPastK(Span{float}, float, int)"/> on a row's known support (ascending ids).</summary>
    private static void DropTiesPastK(Span<float> row, ReadOnlySpan<int> ids, float threshold, int k)
    {
        int above = 0;
        foreach (int id in ids)
        {
            above += row[id] > threshold ? 1 : 0;
        }

        int tiesToKeep = k - above;
        foreach (int id in ids)
        {
            if (row[id] == threshold && tiesToKeep-- <= 0)
            {
                // The support may list -inf entries (it is a superset of the finite ones).
                row[id] = float.NegativeInfinity;
            }
        }
    }
}

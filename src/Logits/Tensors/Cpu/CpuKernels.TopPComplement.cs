namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// The checked maxima of every row first (remembered within a pipeline call), then per row with <c>p &lt; 1</c> a sorted
    /// copy and HF's float32 sums in ascending order, one sequential running sum (<see cref="TopPComplementThreshold"/>),
    /// then one <see cref="MaskBelow"/>.
    /// </remarks>
    public void MaskBelowTopPComplement(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        ValidateTopPComplement(source.Rows, p, minTokensToKeep);
        int rows = source.Rows;
        int vocab = source.Vocab;
        var thresholds = ArrayPool<float>.Shared.Rent(rows);
        var row = ArrayPool<float>.Shared.Rent(vocab);
        var probabilities = ArrayPool<float>.Shared.Rent(vocab);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                RowMaxOf(source.Storage.Span.Slice(r * vocab, vocab), r, source.Support);
            }

            for (int r = 0; r < rows; r++)
            {
                thresholds[r] = float.NegativeInfinity;
                if (p[r] < 1)
                {
                    var z = row.AsSpan(0, vocab);
                    source.Storage.Span.Slice(r * vocab, vocab).CopyTo(z);
                    thresholds[r] = TopPComplementThreshold(z, p[r], minTokensToKeep, probabilities);
                }
            }

            MaskBelow(source, thresholds.AsSpan(0, rows), destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thresholds);
            ArrayPool<float>.Shared.Return(row);
            ArrayPool<float>.Shared.Return(probabilities);
        }
    }

    /// <summary>The argument checks of <see cref="MaskBelowTopPComplement"/> (shared with the torch backend).</summary>
    internal static void ValidateTopPComplement(int rows, ReadOnlySpan<double> p, int minTokensToKeep)
    {
        EnsurePerRow(rows, p.Length, nameof(p));
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
    }

    /// <summary>
    /// HF's complement cut of one checked row (sorted in place): the value of the first kept token in ascending order, or
    /// <c>-∞</c> for a row with no finite entry.
    /// </summary>
    private static float TopPComplementThreshold(Span<float> values, double p, int minTokensToKeep, float[] probabilities)
    {
        int vocab = values.Length;
        int finite = 0;
        float max = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (v > float.NegativeInfinity)
            {
                finite++;
                max = Math.Max(max, v);
            }
        }

        if (finite == 0)
        {
            return float.NegativeInfinity;
        }

        // Sort the finite logits ascending; probabilities follow the same order.
        values.Sort();
        var finiteValues = values[(vocab - finite)..];
        var probs = probabilities.AsSpan(0, finite);
        float sum = 0f;
        for (int i = 0; i < finite; i++)
        {
            probs[i] = MathF.Exp(finiteValues[i] - max);
            sum += probs[i];
        }

        float complement = (float)(1 - p);
        float cumulative = 0f;
        int removed = 0;
        for (int i = 0; i < finite; i++)
        {
            cumulative += probs[i] / sum;
            if (cumulative <= complement)
            {
                removed = i + 1;
            }
            else
            {
                break;
            }
        }

        removed = Math.Min(removed, Math.Max(0, finite - minTokensToKeep));
        return finiteValues[removed];
    }
}


namespace Logits.Processing.Truncation;

/// <summary>The shared last step of every truncation processor: honour <c>minTokensToKeep</c>, then mask.</summary>
internal static class TruncationRules
{
    /// <summary>Throws unless <paramref name="minTokensToKeep"/> is at least 1.</summary>
    public static int ValidateMinTokensToKeep(int minTokensToKeep)
    {
        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        return minTokensToKeep;
    }

    /// <summary>
    /// Sets every entry below its row's threshold to -∞, after lowering each threshold to the
    /// <paramref name="minTokensToKeep"/>-th largest value, so at least that many finite tokens survive
    /// (a filtered token is never resurrected: -∞ stays below any threshold). With
    /// <paramref name="minTokensToKeep"/> = 1 this caps a cut above the row maximum at the maximum, so a
    /// truncation can never empty a row.
    /// </summary>
    public static void KeepAtLeastAndMask(LogitBatch logits, Span<float> thresholds, int minTokensToKeep)
    {
        int rows = logits.Rows;
        var kth = LogitProcessorBuffers.RentFloats(rows);
        var k = minTokensToKeep == 1 ? null : LogitProcessorBuffers.RentInts(rows);
        try
        {
            if (k is null)
            {
                // Keep at least one: the checked row maximum.
                logits.Kernels.RowMax(logits, kth.AsSpan(0, rows));
            }
            else
            {
                Array.Fill(k, Math.Min(minTokensToKeep, logits.Vocab), 0, rows);
                logits.Kernels.KthLargest(logits, k.AsSpan(0, rows), kth.AsSpan(0, rows));
            }

            for (int r = 0; r < rows; r++)
            {
                thresholds[r] = Math.Min(thresholds[r], kth[r]);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(kth);
            if (k is not null)
            {
                LogitProcessorBuffers.Return(k);
            }
        }

        logits.Kernels.MaskBelow(logits, thresholds, logits);
    }
}

using System;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>
/// Removes the tokens strictly above a per-row bound, for rules whose removed set is the top of the row
/// (XTC) or whose kept set is a band of values (typical). <c>MaskBelow</c> covers the other side.
/// </summary>
/// <remarks>
/// The kernels have no "mask above"; the removed ids are found on the host and written as <c>-∞</c> with
/// <c>Scatter</c>, padded with <c>-1</c> to the widest row. Only rows with something to remove are re-read.
/// </remarks>
internal static class MaskAbove
{
    /// <summary>Sets every entry of row <c>r</c> strictly above <paramref name="upper"/>[r] to <c>-∞</c>.</summary>
    /// <param name="logits">The batch, modified in place.</param>
    /// <param name="upper">Per-row bound; <c>+∞</c> removes nothing.</param>
    /// <param name="counts">Per-row number of entries above the bound (already counted by the caller on the host).</param>
    public static void Apply(LogitBatch logits, ReadOnlySpan<float> upper, ReadOnlySpan<int> counts)
    {
        int rows = logits.Rows;
        int width = 0;
        for (int r = 0; r < rows; r++)
        {
            width = Math.Max(width, counts[r]);
        }

        if (width == 0)
        {
            return;
        }

        int length = rows * width;
        var ids = LogitProcessorBuffers.RentInts(length);
        var values = LogitProcessorBuffers.RentFloats(length);
        var row = LogitProcessorBuffers.RentFloats(logits.Vocab);
        try
        {
            Array.Fill(ids, -1, 0, length);
            Array.Fill(values, float.NegativeInfinity, 0, length);
            for (int r = 0; r < rows; r++)
            {
                if (counts[r] == 0)
                {
                    continue;
                }

                var span = row.AsSpan(0, logits.Vocab);
                logits.CopyRowTo(r, span);
                int filled = 0;
                for (int i = 0; i < span.Length && filled < counts[r]; i++)
                {
                    if (span[i] > upper[r])
                    {
                        ids[(r * width) + filled++] = i;
                    }
                }
            }

            logits.Kernels.Scatter(logits, ids.AsSpan(0, length), values.AsSpan(0, length));
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
            LogitProcessorBuffers.Return(values);
            LogitProcessorBuffers.Return(row);
        }
    }
}

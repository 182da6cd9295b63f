namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// The checked maxima of every row first (remembered within a pipeline call), so a NaN or <c>+∞</c> in any row throws
    /// before anything is written; then per selected row the first index holding the maximum, the row filled with
    /// <c>-∞</c> and that value put back. A selected row's support becomes that one id and its maximum stays known.
    /// </remarks>
    public void MaskExceptArgMax(LogitBatch x, ReadOnlySpan<bool> rows, LogitBatch destination)
    {
        var (source, target) = AsCpuPair(x, destination, rows.Length, nameof(rows));
        int vocab = source.Vocab;
        var maxima = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            for (int r = 0; r < source.Rows; r++)
            {
                maxima[r] = RowMaxOf(source.Storage.Span.Slice(r * vocab, vocab), r, source.Support);
            }

            bool inPlace = ReferenceEquals(source, target);
            if (!inPlace)
            {
                target.Support?.ForgetAll();
            }

            for (int r = 0; r < source.Rows; r++)
            {
                var row = source.Storage.Span.Slice(r * vocab, vocab);
                var output = target.Storage.Span.Slice(r * vocab, vocab);
                float maximum = maxima[r];
                if (!rows[r] || float.IsNegativeInfinity(maximum))
                {
                    if (!inPlace)
                    {
                        row.CopyTo(output);
                    }

                    continue;
                }

                int token = FirstIndexOf(row, maximum);
                float value = row[token];
                output.Fill(float.NegativeInfinity);
                output[token] = value;
                if (target.Support is { } support)
                {
                    support.Slots(r)[0] = token;
                    support.SetSupport(r, 1);
                    support.SetMaximum(r, maximum);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(maxima);
        }
    }
}

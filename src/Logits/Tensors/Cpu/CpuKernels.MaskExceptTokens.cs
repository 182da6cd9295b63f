namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Row by row: the checked maximum (remembered within a pipeline call), the listed values set aside, the row filled
    /// with <c>-∞</c> and the values put back. The rows' known supports stay valid (no entry becomes finite); the maxima
    /// are forgotten.
    /// </remarks>
    public void MaskExceptTokens(LogitBatch x, ReadOnlySpan<int> tokenIds, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        var target = AsCpuLike(source, destination, nameof(destination));
        int perRow = IdsPerRow(source, tokenIds.Length, nameof(tokenIds));
        ValidateIds(tokenIds, perRow, source.Vocab, nameof(tokenIds));
        int vocab = source.Vocab;
        for (int r = 0; r < source.Rows; r++)
        {
            RowMaxOf(source.Storage.Span.Slice(r * vocab, vocab), r, source.Support);
        }

        bool inPlace = ReferenceEquals(source, target);
        if (!inPlace)
        {
            target.Support?.ForgetAll();
        }

        var kept = ArrayPool<float>.Shared.Rent(Math.Max(perRow, 1));
        try
        {
            for (int r = 0; r < source.Rows; r++)
            {
                var row = source.Storage.Span.Slice(r * vocab, vocab);
                var ids = tokenIds.Slice(r * perRow, perRow);
                for (int j = 0; j < perRow; j++)
                {
                    kept[j] = ids[j] < 0 ? 0f : row[ids[j]];
                }

                var output = target.Storage.Span.Slice(r * vocab, vocab);
                output.Fill(float.NegativeInfinity);
                for (int j = 0; j < perRow; j++)
                {
                    if (ids[j] >= 0)
                    {
                        output[ids[j]] = kept[j];
                    }
                }

                if (inPlace)
                {
                    source.Support?.ForgetMaximum(r);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(kept);
        }
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>torch.argmax</c> (the first maximal index, <c>-0 = +0</c>) per row, a position mask comparing each column with
    /// it, and one <c>masked_fill</c> of the selected rows: no host read. An all-<c>-∞</c> row's argmax holds <c>-∞</c>, so
    /// the row stays so. Each row keeps its maximum, so remembered maxima carry over.
    /// </remarks>
    public void MaskExceptArgMax(LogitBatch x, ReadOnlySpan<bool> rows, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(rows.Length, input.Rows, nameof(rows));
        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var values = input.Values;
            var tokens = values.argmax(1, true);
            var positions = TorchScalars.Range(0, input.Vocab, ScalarType.Int64, device).unsqueeze(0);
            var selected = tensor(rows.ToArray(), new long[] { input.Rows, 1 }, device: device);
            var drop = positions.ne(tokens).logical_and(selected);
            if (ReferenceEquals(input, output))
            {
                values.masked_fill_(drop, TorchScalars.NegativeInfinity);
            }
            else
            {
                output.Values.copy_(values.masked_fill(drop, TorchScalars.NegativeInfinity));
            }
        }

        KeepMaxima(input, output);
        CarryTopPrefix(input, output);
    }
}

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// A <c>[Rows, Vocab]</c> keep mask is built on the device from the ids (one <c>index_put_</c>), then
    /// <c>where(keep, x, -∞)</c>: no host read. The row maxima are forgotten.
    /// </remarks>
    public void MaskExceptTokens(LogitBatch x, ReadOnlySpan<int> tokenIds, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireIdLayout(tokenIds.Length, input.Rows, nameof(tokenIds));
        int perRow = tokenIds.Length / input.Rows;
        var rows = new List<long>(tokenIds.Length);
        var columns = new List<long>(tokenIds.Length);
        for (int i = 0; i < tokenIds.Length; i++)
        {
            int id = tokenIds[i];
            if (id < 0)
            {
                continue;
            }

            RequireIdBelowVocab(id, input.Vocab, i, perRow);
            rows.Add(i / perRow);
            columns.Add(id);
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var keep = zeros(new long[] { input.Rows, input.Vocab }, ScalarType.Bool, device);
            if (rows.Count > 0)
            {
                var indices = new[]
                {
                    tensor(rows.ToArray(), new long[] { rows.Count }, ScalarType.Int64, device),
                    tensor(columns.ToArray(), new long[] { columns.Count }, ScalarType.Int64, device),
                };
                keep.index_put_(ones(new long[] { rows.Count }, ScalarType.Bool, device), indices);
            }

            output.Values.copy_(input.Values.masked_fill(keep.logical_not(), TorchScalars.NegativeInfinity));
        }

        output.ForgetRowFacts();
    }
}

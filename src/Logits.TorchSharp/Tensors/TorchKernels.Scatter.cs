
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Padding is dropped and repeated (row, id) pairs are resolved on the host (the last value wins, as on
    /// the CPU; torch's <c>index_put_</c> leaves the winner of duplicates unspecified), then one
    /// <c>index_put_</c> writes the values.
    /// </remarks>
    public void Scatter(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values)
    {
        var output = RequireTorch(destination, nameof(destination));
        RequireIdLayout(tokenIds.Length, output.Rows, nameof(tokenIds));
        if (values.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(values), $"has {values.Length} elements but {tokenIds.Length} (one per id) are required.");
        }

        int perRow = tokenIds.Length / output.Rows;
        var last = new Dictionary<long, float>();
        for (int i = 0; i < tokenIds.Length; i++)
        {
            int id = tokenIds[i];
            if (id < 0)
            {
                continue;
            }

            RequireIdBelowVocab(id, output.Vocab, i, perRow);
            if (float.IsNaN(values[i]) || float.IsPositiveInfinity(values[i]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(values), values[i], $"must be finite or -infinity (row {i / perRow}, position {i % perRow})");
            }

            last[((long)(i / perRow) * output.Vocab) + id] = values[i];
        }

        if (last.Count == 0)
        {
            return;
        }

        output.ForgetRowFacts();

        var rows = new long[last.Count];
        var columns = new long[last.Count];
        var written = new float[last.Count];
        int j = 0;
        foreach (var (flat, value) in last)
        {
            rows[j] = flat / output.Vocab;
            columns[j] = flat % output.Vocab;
            written[j] = value;
            j++;
        }

        using var scope = NewDisposeScope();
        Device device = output.Device;
        var indices = new[]
        {
            tensor(rows, new long[] { rows.Length }, ScalarType.Int64, device),
            tensor(columns, new long[] { columns.Length }, ScalarType.Int64, device),
        };
        output.Values.index_put_(tensor(written, new long[] { written.Length }, ScalarType.Float32, device), indices);
    }
}

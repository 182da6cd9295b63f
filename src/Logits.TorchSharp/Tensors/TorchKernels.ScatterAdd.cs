
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Padding is dropped on the host; the remaining <c>(row, id, value)</c> triples go to one
    /// <c>index_put_(accumulate: true)</c>, so repeated ids accumulate. IEEE addition keeps <c>-∞</c> sticky
    /// (<c>-∞ + v = -∞</c> for finite or <c>-∞</c> <c>v</c>, and values are never <c>+∞</c>). The update is in place;
    /// afterwards the touched entries are read back, and the lowest (row, token) holding NaN or <c>+∞</c>
    /// (already there, or an overflow) throws with stage <c>"scatter-add"</c>.
    /// </remarks>
    public void ScatterAdd(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values)
    {
        var output = RequireTorch(destination, nameof(destination));
        RequireIdLayout(tokenIds.Length, output.Rows, nameof(tokenIds));
        if (values.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(values), $"has {values.Length} elements but {tokenIds.Length} (one per id) are required.");
        }

        int perRow = tokenIds.Length / output.Rows;
        int touched = 0;
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

            touched++;
        }

        if (touched == 0)
        {
            return;
        }

        var rows = new long[touched];
        var columns = new long[touched];
        var addends = new float[touched];
        for (int i = 0, j = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] >= 0)
            {
                rows[j] = i / perRow;
                columns[j] = tokenIds[i];
                addends[j] = values[i];
                j++;
            }
        }

        // Inside a pipeline call on trusted entries, the check of the touched entries is deferred to the batch's next
        // host read (same exception); otherwise they are read back now.
        bool defer = output.InPipelineCall && IsTrusted(output);
        output.ForgetRowFacts();
        double[] after;
        using (var scope = NewDisposeScope())
        {
            Device device = output.Device;
            var rowIndex = tensor(rows, new long[] { touched }, ScalarType.Int64, device);
            var columnIndex = tensor(columns, new long[] { touched }, ScalarType.Int64, device);
            var indices = new[] { rowIndex, columnIndex };
            output.Values.index_put_(tensor(addends, new long[] { touched }, ScalarType.Float32, device), indices, accumulate: true);
            if (defer)
            {
                output.DeferTouchedCheck(output.Values.index(indices), rows, columns, "scatter-add");
                return;
            }

            after = output.Read(output.Values.index(indices));
        }

        int badRow = int.MaxValue;
        int badToken = int.MaxValue;
        float badValue = 0;
        for (int j = 0; j < touched; j++)
        {
            bool invalid = double.IsNaN(after[j]) || double.IsPositiveInfinity(after[j]);
            if (invalid && (rows[j] < badRow || (rows[j] == badRow && columns[j] < badToken)))
            {
                badRow = (int)rows[j];
                badToken = (int)columns[j];
                badValue = (float)after[j];
            }
        }

        if (badRow != int.MaxValue)
        {
            ThrowHelper.ThrowInvalidLogits(badRow, badToken, badValue, "scatter-add");
        }
    }
}

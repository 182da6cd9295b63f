using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// One <c>topk</c> with the largest <c>k</c> of the batch, then a gather of each row's <c>k</c>-th column.
    /// <c>-∞</c> entries are values like any other, so a <c>k</c> above the number of finite entries gives <c>-∞</c>.
    /// </remarks>
    public void KthLargest(LogitBatch x, ReadOnlySpan<int> k, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(k.Length, input.Rows, nameof(k));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        int largestK = 1;
        var columns = new long[k.Length];
        for (int row = 0; row < k.Length; row++)
        {
            if (k[row] < 1 || k[row] > input.Vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[row], $"must be in [1, {input.Vocab}] (row {row})");
            }

            largestK = Math.Max(largestK, k[row]);
            columns[row] = k[row] - 1;
        }

        CheckedRowMax(input.Tensor, "input", emptyStage: null);

        using var scope = NewDisposeScope();
        var (values, _) = input.Tensor.topk(largestK, 1, largest: true, sorted: true);
        var kth = values.gather(1, Indices(columns, input.Rows, input.Device));
        TorchHostReads.CopyTo(kth, destination);
    }
}

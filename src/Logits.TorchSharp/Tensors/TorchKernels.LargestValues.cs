using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>One sorted <c>topk</c>; <c>-∞</c> entries are values like any other.</remarks>
    public void LargestValues(LogitBatch x, int count, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        if (count < 1 || count > input.Vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"must be in [1, {input.Vocab}]");
        }

        if (destination.Length != (long)input.Rows * count)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but Rows * count = {(long)input.Rows * count} are required.");
        }

        CheckedRowMax(input.Tensor, "input", emptyStage: null);

        using var scope = NewDisposeScope();
        var (values, _) = input.Tensor.topk(count, 1, largest: true, sorted: true);
        TorchHostReads.CopyTo(values.contiguous(), destination);
    }
}

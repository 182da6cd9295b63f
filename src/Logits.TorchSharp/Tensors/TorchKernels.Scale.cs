using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// The product is computed into a temporary and checked there: a NaN or <c>+∞</c> input throws with stage
    /// <c>"input"</c>, a finite logit overflowing with stage <c>"scale"</c>; the destination is then unchanged.
    /// </remarks>
    public void Scale(LogitBatch x, float factor, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
        if (!float.IsFinite(factor) || factor <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(factor), factor, "must be finite and greater than 0");
        }

        using var scope = NewDisposeScope();
        var result = input.Tensor.mul(factor);
        CheckElementwise(result, "scale", input.Tensor);
        output.Tensor.copy_(result);
    }
}

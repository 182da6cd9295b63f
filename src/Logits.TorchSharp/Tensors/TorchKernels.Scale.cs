using System;
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
    public void Scale(LogitBatch x, ReadOnlySpan<float> factors, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
        RequireRowLength(factors.Length, input.Rows, nameof(factors));
        for (int r = 0; r < factors.Length; r++)
        {
            if (!float.IsFinite(factors[r]) || factors[r] <= 0)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(factors), factors[r], $"must be finite and greater than 0 (row {r})");
            }
        }

        using var scope = NewDisposeScope();
        var result = input.Tensor.mul(Column(factors.ToArray(), input.Device));
        CheckElementwise(result, "scale", input.Tensor);
        output.Tensor.copy_(result);
    }
}

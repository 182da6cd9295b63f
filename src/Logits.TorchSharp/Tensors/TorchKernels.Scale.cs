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

        ResolveBeforeWritingElsewhere(input, output);
        using var scope = NewDisposeScope();
        var result = input.Values.mul(Column(factors.ToArray(), input.Device));
        if (!IsTrusted(input))
        {
            CheckElementwise(result, "scale", input.Values);
            output.Values.copy_(result);
            output.ForgetMaxima();
            return;
        }

        // Trusted input: only an overflow can make +inf. With the maxima known it is decided on the host, since
        // rounding is monotonic and the row maximum's product is the row's largest (float32 products, as torch's).
        if (input.TryGetMaxima(out var known))
        {
            var maxima = known.ToArray();
            for (int row = 0; row < maxima.Length; row++)
            {
                maxima[row] *= factors[row];
                if (float.IsPositiveInfinity(maxima[row]))
                {
                    CheckElementwise(result, "scale", input.Values);
                }
            }

            output.Values.copy_(result);
            output.RememberMaxima(maxima);
            return;
        }

        // Otherwise the check is deferred to the batch's next host read when the result stays in the pipeline's batch.
        if (ReferenceEquals(input, output) && output.InPipelineCall)
        {
            output.DeferRowCheck(result, "scale");
        }
        else
        {
            CheckElementwise(result, "scale", input.Values);
        }

        output.Values.copy_(result);
        output.ForgetMaxima();
    }
}

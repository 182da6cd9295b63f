
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
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(factors.Length, input.Rows, nameof(factors));
        for (int r = 0; r < factors.Length; r++)
        {
            if (!float.IsFinite(factors[r]) || factors[r] <= 0)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(factors), factors[r], $"must be finite and greater than 0 (row {r})");
            }
        }

        ResolveBeforeWritingElsewhere(input, output);
        bool inPlace = ReferenceEquals(input, output);
        using var scope = NewDisposeScope();
        var column = Column(factors.ToArray(), input.Device);
        if (IsTrusted(input) && input.TryGetMaxima(out var known))
        {
            // Trusted input: only an overflow can make +inf, and it is decided on the host: rounding is monotonic, so
            // the row maximum's product is the row's largest (float32 products, as torch's).
            var maxima = known.ToArray();
            bool overflow = false;
            for (int row = 0; row < maxima.Length; row++)
            {
                maxima[row] *= factors[row];
                overflow |= float.IsPositiveInfinity(maxima[row]);
            }

            if (!overflow)
            {
                MultiplyInto(input, column, output, inPlace);
                output.RememberMaxima(maxima);
                CarryTopPrefix(input, output);
                return;
            }
        }
        else if (inPlace && output.InPipelineCall && IsTrusted(input))
        {
            // Trusted input, maxima unknown: the overflow check is deferred to the batch's next host read.
            input.Values.mul_(column);
            output.DeferRowCheck(input.Values, "scale");
            CarryTopPrefix(input, output);
            return;
        }

        // Checked before the destination is written, so a failed call leaves it unchanged.
        var result = input.Values.mul(column);
        CheckElementwise(result, "scale", input.Values);
        output.Values.copy_(result);
        output.ForgetMaxima();
        CarryTopPrefix(input, output);
    }

    /// <summary><c>output = input · column</c>, in place when the batches are the same.</summary>
    private static void MultiplyInto(TorchLogitBatch input, Tensor column, TorchLogitBatch output, bool inPlace)
    {
        if (inPlace)
        {
            input.Values.mul_(column);
        }
        else
        {
            output.Values.copy_(input.Values.mul(column));
        }
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>destination = where(x &lt; lower_row or x &gt; upper_row, -∞, x)</c>, the bounds as <c>[Rows, 1]</c> columns.</remarks>
    public void MaskOutside(LogitBatch x, ReadOnlySpan<float> lower, ReadOnlySpan<float> upper, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(lower.Length, input.Rows, nameof(lower));
        RequireRowLength(upper.Length, input.Rows, nameof(upper));
        for (int row = 0; row < input.Rows; row++)
        {
            if (float.IsNaN(lower[row]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(lower), lower[row], $"must not hold NaN (row {row})");
            }

            if (float.IsNaN(upper[row]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(upper), upper[row], $"must not hold NaN (row {row})");
            }
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            var outside = input.Values.lt(Column(lower.ToArray(), input.Device))
                .logical_or(input.Values.gt(Column(upper.ToArray(), input.Device)));
            output.Values.copy_(input.Values.masked_fill(outside, TorchScalars.NegativeInfinity));
        }

        // A maximum inside the band stays; a lower bound above it empties the row; otherwise the new maximum is unknown.
        bool known = input.TryGetMaxima(out var maxima);
        var updated = known ? maxima.ToArray() : null;
        for (int row = 0; known && row < input.Rows; row++)
        {
            float max = updated![row];
            if (lower[row] > max)
            {
                updated[row] = float.NegativeInfinity;
            }
            else if (max > upper[row])
            {
                known = false;
            }
        }

        if (known)
        {
            output.RememberMaxima(updated);
        }
        else
        {
            output.ForgetMaxima();
        }

        // Cutting from above breaks the top prefixes.
        output.ForgetTopPrefix();
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>destination = where(x &lt; τ_row, -∞, x)</c>, with the thresholds as a <c>[Rows, 1]</c> column.</remarks>
    public void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(thresholds.Length, input.Rows, nameof(thresholds));
        for (int row = 0; row < thresholds.Length; row++)
        {
            if (float.IsNaN(thresholds[row]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(thresholds), thresholds[row], $"must not be NaN (row {row})");
            }
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            MaskBelowColumn(input, Column(thresholds.ToArray(), input.Device), output);
        }

        // A row keeps its maximum unless the threshold is above it, which empties the row.
        if (input.TryGetMaxima(out var known))
        {
            var maxima = known.ToArray();
            for (int row = 0; row < maxima.Length; row++)
            {
                if (thresholds[row] > maxima[row])
                {
                    maxima[row] = float.NegativeInfinity;
                }
            }

            output.RememberMaxima(maxima);
        }
        else
        {
            output.ForgetMaxima();
        }

        CarryTopPrefix(input, output);
    }
}

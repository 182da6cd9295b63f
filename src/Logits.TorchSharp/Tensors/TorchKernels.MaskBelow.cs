using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>destination = where(x &lt; τ_row, -∞, x)</c>, with the thresholds as a <c>[Rows, 1]</c> column.</remarks>
    public void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
        RequireRowLength(thresholds.Length, input.Rows, nameof(thresholds));
        for (int row = 0; row < thresholds.Length; row++)
        {
            if (float.IsNaN(thresholds[row]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(thresholds), thresholds[row], $"must not be NaN (row {row})");
            }
        }

        CheckedRowMax(input.Tensor, "input", emptyStage: null);

        using var scope = NewDisposeScope();
        var column = Column(thresholds.ToArray(), input.Device);
        output.Tensor.copy_(input.Tensor.masked_fill(input.Tensor.lt(column), TorchScalars.NegativeInfinity));
    }
}

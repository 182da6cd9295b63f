using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>destination = where(x &lt; lower_row or x &gt; upper_row, -∞, x)</c>, the bounds as <c>[Rows, 1]</c> columns.</remarks>
    public void MaskOutside(LogitBatch x, ReadOnlySpan<float> lower, ReadOnlySpan<float> upper, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
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

        CheckedRowMax(input.Tensor, "input", emptyStage: null);

        using var scope = NewDisposeScope();
        var outside = input.Tensor.lt(Column(lower.ToArray(), input.Device))
            .logical_or(input.Tensor.gt(Column(upper.ToArray(), input.Device)));
        output.Tensor.copy_(input.Tensor.masked_fill(outside, TorchScalars.NegativeInfinity));
    }
}

using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>torch.argmax</c> returns the first maximal index, and compares <c>-0</c> and <c>+0</c> as equal, so
    /// ties go to the lowest index. NaN (which argmax would pick) and empty rows are rejected first.
    /// </remarks>
    public void ArgMax(LogitBatch x, Span<int> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        CheckedRowMax(input.Tensor, "input", "argmax");

        long[] tokens;
        using (var scope = NewDisposeScope())
        {
            tokens = TorchHostReads.Int64s(input.Tensor.argmax(1, false));
        }

        for (int row = 0; row < tokens.Length; row++)
        {
            destination[row] = (int)tokens[row];
        }
    }
}

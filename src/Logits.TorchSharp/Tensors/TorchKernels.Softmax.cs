using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>torch.softmax</c> subtracts the row maximum, so logits above 88.7 do not overflow and <c>-∞</c>
    /// gives exactly 0. Empty rows are rejected first, so no row is <c>exp(-∞ - (-∞)) = NaN</c>.
    /// </remarks>
    public void Softmax(LogitBatch x, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
        CheckedRowMax(input.Tensor, "input", "softmax");

        using var scope = NewDisposeScope();
        output.Tensor.copy_(input.Tensor.softmax(1));
    }
}

using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>torch.log_softmax</c> computes <c>z - m - ln Σ exp(z - m)</c>; <c>-∞</c> stays <c>-∞</c> and, with empty
    /// rows rejected first, the sum is at least 1.
    /// </remarks>
    public void LogSoftmax(LogitBatch x, LogitBatch destination)
    {
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
        CheckedRowMax(input.Tensor, "input", "log-softmax");

        using var scope = NewDisposeScope();
        output.Tensor.copy_(input.Tensor.log_softmax(1));
    }
}

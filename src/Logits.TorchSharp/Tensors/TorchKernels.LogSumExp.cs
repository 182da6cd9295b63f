using System;
using Logits.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks><c>torch.logsumexp</c> subtracts the row maximum: <c>m + ln Σ exp(z - m)</c>.</remarks>
    public void LogSumExp(LogitBatch x, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        CheckedRowMax(input.Tensor, "input", "logsumexp");

        using var scope = NewDisposeScope();
        TorchHostReads.CopyTo(input.Tensor.logsumexp(1), destination);
    }
}

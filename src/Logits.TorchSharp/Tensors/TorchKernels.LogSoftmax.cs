
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>(z - m) - ln Σ exp(z - m)</c> with <c>m</c> the checked row maximum; <c>-∞</c> stays <c>-∞</c> and, with
    /// empty rows rejected first, the sum is at least 1. Inside a pipeline call the maxima stay on the device and the
    /// empty-row check rides along with the batch's next host read. The sum is torch's cascade <c>sum</c> reduction, for
    /// the same accuracy reason as <see cref="Softmax"/>.
    /// </remarks>
    public void LogSoftmax(LogitBatch x, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        using var scope = NewDisposeScope();
        var maxima = MaximaColumn(input, "log-softmax");
        ResolveBeforeWritingElsewhere(input, output);
        output.ForgetRowFacts();
        var shifted = input.Values.sub(maxima);
        var logSums = shifted.exp().sum(1, keepdim: true).log_();
        output.Values.copy_(shifted.sub_(logSums));
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>e = exp(z - m)</c>, <c>p = e / Σ e</c>, with <c>m</c> the checked row maximum, so logits above 88.7 do not
    /// overflow and <c>-∞</c> gives exactly 0. The sum is torch's <c>sum</c> reduction (cascade summation):
    /// <c>torch.softmax</c>'s fused CPU kernel accumulates sequentially in float32 and drifts by up to ~7e-5
    /// relative on 262144-token rows, beyond the 1e-5 contract.
    /// </remarks>
    public void Softmax(LogitBatch x, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        float[] maxima = CheckedMaxima(input, "softmax");
        ResolveBeforeWritingElsewhere(input, output);
        output.ForgetRowFacts();
        using var scope = NewDisposeScope();
        var exponentials = input.Values.sub(Column(maxima, input.Device)).exp_();
        var sums = exponentials.sum(1, keepdim: true);
        output.Values.copy_(exponentials.div_(sums));
    }
}

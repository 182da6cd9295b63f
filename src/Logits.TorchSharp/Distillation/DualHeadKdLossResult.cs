
namespace Logits.TorchSharp.Distillation;

/// <summary>The Dual-Head KD total loss and its two weighted components, as scalar tensors the caller owns (docs/algorithms/paper-methods.md#losses; arXiv 2411.08937).</summary>
/// <remarks>Gradient alignment (<see cref="GradientAligner"/>) needs the components separately.</remarks>
public sealed class DualHeadKdLossResult : IDisposable
{
    internal DualHeadKdLossResult(Tensor total, Tensor crossEntropy, Tensor auxiliary)
    {
        Total = total;
        CrossEntropy = crossEntropy;
        Auxiliary = auxiliary;
    }

    /// <summary><c>L = γ·CE + α·L_aux</c>.</summary>
    public Tensor Total { get; }

    /// <summary>The weighted main-head term <c>γ·CE(z⁰, y)</c>.</summary>
    public Tensor CrossEntropy { get; }

    /// <summary>The weighted auxiliary term <c>α·L_aux(z¹, z_t)</c> (0 with zero gradient once the stop epoch is reached).</summary>
    public Tensor Auxiliary { get; }

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Total.Dispose();
        CrossEntropy.Dispose();
        Auxiliary.Dispose();
    }
}

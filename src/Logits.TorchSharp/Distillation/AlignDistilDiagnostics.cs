
namespace Logits.TorchSharp.Distillation;

/// <summary>The AlignDistil loss with its per-token and per-sequence diagnostics (docs/algorithms/paper-methods.md#teacher-and-loss; AlignDistil, arXiv 2503.02832).</summary>
/// <remarks>
/// Every tensor except <see cref="Loss"/> is detached. Training code should log <see cref="Weights"/>: where the two DPO
/// models agree the weight approaches <c>β₀/ε</c> (100 by default) and such tokens can dominate the loss.
/// The caller owns the tensors; <see cref="Dispose"/> releases them all.
/// </remarks>
public sealed class AlignDistilDiagnostics : IDisposable
{
    internal AlignDistilDiagnostics(Tensor loss, Tensor disagreement, Tensor alpha, Tensor weights, Tensor kl, Tensor sequenceLosses, Tensor positionMask)
    {
        Loss = loss;
        Disagreement = disagreement;
        Alpha = alpha;
        Weights = weights;
        KL = kl;
        SequenceLosses = sequenceLosses;
        PositionMask = positionMask;
    }

    /// <summary>The scalar loss, differentiable with respect to the student logits.</summary>
    public Tensor Loss { get; }

    /// <summary><c>[B, S]</c> disagreement <c>D_t</c>, NaN for teacher forms that do not measure it.</summary>
    public Tensor Disagreement { get; }

    /// <summary><c>[B, S]</c> teacher coefficient: <c>α_t</c>, or <c>w = β₀/β</c> for the fixed forms, 0 for the plain teacher.</summary>
    public Tensor Alpha { get; }

    /// <summary><c>[B, S]</c> per-token weights (<c>β₀/α_t</c>, <c>β</c> or 1).</summary>
    public Tensor Weights { get; }

    /// <summary><c>[B, S]</c> unweighted reverse KL <c>KL(π_θ ‖ π*)</c>.</summary>
    public Tensor KL { get; }

    /// <summary><c>[B]</c> per-sequence losses: <c>(1/n_b)·Σ m·ℓ</c> for <c>SequenceMean</c> and <c>TokenMean</c>,
    /// <c>Σ m·ℓ</c> for <c>SequenceSum</c>; 0 for sequences without response positions.</summary>
    public Tensor SequenceLosses { get; }

    /// <summary><c>[B, S]</c> position mask actually used (after the shift of docs/algorithms/paper-methods.md#reductions when a token mask was given).</summary>
    public Tensor PositionMask { get; }

    /// <summary>Disposes every tensor.</summary>
    public void Dispose()
    {
        Loss.Dispose();
        Disagreement.Dispose();
        Alpha.Dispose();
        Weights.Dispose();
        KL.Dispose();
        SequenceLosses.Dispose();
        PositionMask.Dispose();
    }
}

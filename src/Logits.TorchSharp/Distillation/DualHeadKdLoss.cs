using Logits.Distillation;

namespace Logits.TorchSharp.Distillation;

/// <summary>
/// Dual-Head KD's combined training loss <c>L = γ·CE(z⁰, y) + α·L_aux(z¹, z_t)</c> on torch tensors (docs/algorithms/paper-methods.md#losses).
/// </summary>
/// <remarks>
/// <para>Source: Yang et al., <i>Dual-Head Knowledge Distillation</i>, arXiv 2411.08937 (KDD 2025); official code
/// <c>penghui-yang/DHKD</c>.</para>
/// <para>The cross-entropy reads only the main-head logits and the auxiliary loss (BinaryKL-Norm by default) only the
/// auxiliary-head logits, so each head gets exactly one loss's gradient and the shared backbone gets both; the teacher
/// logits are detached. Library decision: the main head carries CE only, as in the released recipe. From
/// <see cref="DualHeadKdOptions.AuxiliaryStopEpoch"/> on (epochs counted from 1) α is 0, as in the reference.</para>
/// </remarks>
public sealed class DualHeadKdLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">The parameters; <see langword="null"/> means <see cref="DualHeadKdOptions.Cifar100"/> (the defaults).</param>
    public DualHeadKdLoss(DualHeadKdOptions? options = null)
    {
        Options = options ?? DualHeadKdOptions.Cifar100;
    }

    /// <summary>The parameters.</summary>
    public DualHeadKdOptions Options { get; }

    /// <summary>Computes the total loss and its weighted components.</summary>
    /// <param name="mainLogits">Main-head logits <c>z⁰</c>, <c>[N, C]</c>.</param>
    /// <param name="auxiliaryLogits">Auxiliary-head logits <c>z¹</c>, same shape.</param>
    /// <param name="teacherLogits">Teacher logits <c>z_t</c>, same shape (detached inside).</param>
    /// <param name="labels"><c>[N]</c> integer labels.</param>
    /// <param name="epoch">The current epoch counted from 1, or <see langword="null"/>.</param>
    /// <param name="validPositions">Optional mask over the leading dimensions for token-level use (<c>[B, S, C]</c> logits,
    /// <c>[B, S]</c> labels and mask): only marked positions count and <c>N</c> is their number.</param>
    /// <returns>The loss tensors; the caller disposes them.</returns>
    /// <exception cref="ArgumentException">Shapes differ, or (when validating) a logit is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">(When validating) a label is outside <c>[0, C)</c>.</exception>
    public DualHeadKdLossResult Compute(Tensor mainLogits, Tensor auxiliaryLogits, Tensor teacherLogits, Tensor labels, int? epoch = null, Tensor? validPositions = null)
    {
        ArgumentNullException.ThrowIfNull(mainLogits);
        ArgumentNullException.ThrowIfNull(auxiliaryLogits);
        if (!mainLogits.shape.AsSpan().SequenceEqual(auxiliaryLogits.shape))
        {
            ThrowHelper.ThrowArgument(nameof(auxiliaryLogits), "must have the main-head logits' shape.");
        }

        using var scope = NewDisposeScope();
        var ce = DualHeadLosses.CrossEntropy(mainLogits, labels, Options.ValidateInputs, validPositions).Times(Options.Gamma);
        double alpha = Options.AlphaAt(epoch);
        var aux = DualHeadLosses.Auxiliary(auxiliaryLogits, teacherLogits, Options, validPositions).Times(alpha);
        var total = ce.Plus(aux);
        return new DualHeadKdLossResult(total.MoveToOuterDisposeScope(), ce.MoveToOuterDisposeScope(), aux.MoveToOuterDisposeScope());
    }
}

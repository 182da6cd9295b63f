using Logits.Optimization;

namespace Logits.TorchSharp.Optimization;

/// <summary>
/// The target-space losses of <see cref="TargetLoss"/> on torch tensors: the loss (differentiable by autograd with
/// respect to the targets) and its gradient <c>G = ∇_z h</c> (detached), on the targets' device and dtype.
/// </summary>
/// <remarks>
/// <code>
/// squared error         h = Σ_i ½‖z_i − y_i‖²             G = Z − Y
/// binary logistic       h = Σ_i softplus(−y_i·z_i)         G_i = −y_i·σ(−y_i·z_i),   y_i ∈ {−1, +1}
/// softmax CE            h = Σ_i −ln softmax(z_i)[y_i]      G = softmax(Z) − onehot(Y)
/// </code>
/// <para><see cref="SurrogateReduction.Mean"/> divides h and G by N (the first dimension). softplus is evaluated as
/// <c>relu(u) + log1p(exp(−|u|))</c>, σ(−m) as <c>exp(−softplus(m))</c> and the softmax through <c>log_softmax</c>,
/// so no logit overflows. Inputs are validated (shapes, finite targets, labels) with one host synchronisation each and
/// are never disposed; the returned tensors belong to the caller.</para>
/// </remarks>
public static class TorchTargetLoss
{
    /// <summary>The squared error and its gradient.</summary>
    /// <param name="targets">Z, <c>[N, K]</c> (or <c>[N]</c>), floating point, finite.</param>
    /// <param name="expected">Y, the same shape.</param>
    /// <param name="reduction">Sum or mean over N.</param>
    /// <returns>The scalar loss and G (same shape as Z).</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">Shapes differ, the dtype is not floating point, or a target is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is undefined.</exception>
    public static (Tensor Loss, Tensor Gradient) SquaredError(Tensor targets, Tensor expected, SurrogateReduction reduction = SurrogateReduction.Sum)
    {
        ArgumentNullException.ThrowIfNull(expected);
        long rows = CheckTargets(targets, reduction);
        if (!expected.shape.AsSpan().SequenceEqual(targets.shape))
        {
            ThrowHelper.ThrowArgument(nameof(expected), $"has shape [{string.Join(", ", expected.shape)}] but the targets have [{string.Join(", ", targets.shape)}].");
        }

        TorchChecks.Finite(expected, nameof(expected));
        using var scope = NewDisposeScope();
        using var scale = Scale(reduction, rows).ToScalar();
        using var half = 0.5.ToScalar();
        var residual = targets.sub(expected.to_type(targets.dtype));
        var loss = residual.Squared().sum().mul(half).mul(scale);
        var gradient = residual.detach().mul(scale);
        return (loss.MoveToOuterDisposeScope(), gradient.MoveToOuterDisposeScope());
    }

    /// <summary>The binary logistic loss and its gradient.</summary>
    /// <param name="targets">z, <c>[N]</c> or <c>[N, 1]</c>, floating point, finite.</param>
    /// <param name="labels">N labels, each exactly −1 or +1 (any numeric dtype).</param>
    /// <param name="reduction">Sum or mean over N.</param>
    /// <returns>The scalar loss and G (same shape as z).</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, a label is not ±1, or a target is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is undefined.</exception>
    public static (Tensor Loss, Tensor Gradient) BinaryLogistic(Tensor targets, Tensor labels, SurrogateReduction reduction = SurrogateReduction.Sum)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long rows = CheckTargets(targets, reduction);
        if (targets.numel() != rows)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"has shape [{string.Join(", ", targets.shape)}]; the binary logistic loss takes one logit per row.");
        }

        using var scope = NewDisposeScope();
        var y = TorchChecks.SignLabels(labels, rows, targets.dtype, targets.device, nameof(labels)).reshape(targets.shape);
        using var scale = Scale(reduction, rows).ToScalar();
        var margins = y.mul(targets);
        var loss = TorchChecks.Softplus(margins.neg()).sum().mul(scale);
        var gradient = y.neg().mul(TorchChecks.Softplus(margins.detach()).neg().exp()).mul(scale);
        return (loss.MoveToOuterDisposeScope(), gradient.MoveToOuterDisposeScope());
    }

    /// <summary>Softmax cross-entropy and its gradient.</summary>
    /// <param name="targets">Z, <c>[N, K]</c>, floating point, finite.</param>
    /// <param name="labels">N integer labels in <c>[0, K)</c>.</param>
    /// <param name="reduction">Sum or mean over N.</param>
    /// <returns>The scalar loss and G (<c>[N, K]</c>).</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, labels are not integers, or a target is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is undefined or a label is outside <c>[0, K)</c>.</exception>
    public static (Tensor Loss, Tensor Gradient) SoftmaxCrossEntropy(Tensor targets, Tensor labels, SurrogateReduction reduction = SurrogateReduction.Sum)
    {
        ArgumentNullException.ThrowIfNull(labels);
        long rows = CheckTargets(targets, reduction);
        TorchChecks.Shape(targets, nameof(targets), -1, -1);
        long classes = targets.shape[1];
        if (labels.Dimensions != 1 || labels.shape[0] != rows || labels.is_floating_point() || labels.dtype == ScalarType.Bool)
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"must be [{rows}] integer labels; got [{string.Join(", ", labels.shape)}] of {labels.dtype}.");
        }

        using var scope = NewDisposeScope();
        var y = labels.to_type(ScalarType.Int64).to(targets.device);
        long low = y.min().item<long>(), high = y.max().item<long>();
        if (low < 0 || high >= classes)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), low < 0 ? low : high, $"must hold labels in [0, {classes})");
        }

        using var scale = Scale(reduction, rows).ToScalar();
        var logP = nn.functional.log_softmax(targets, 1);
        var loss = logP.gather(1, y.unsqueeze(1)).sum().neg().mul(scale);
        var gradient = logP.detach().exp().sub(nn.functional.one_hot(y, classes).to_type(targets.dtype)).mul(scale);
        return (loss.MoveToOuterDisposeScope(), gradient.MoveToOuterDisposeScope());
    }

    private static double Scale(SurrogateReduction reduction, long rows) => reduction == SurrogateReduction.Mean ? 1.0 / rows : 1.0;

    private static long CheckTargets(Tensor targets, SurrogateReduction reduction)
    {
        ArgumentNullException.ThrowIfNull(targets);
        TargetLoss.CheckReduction(reduction);
        TorchChecks.Floating(targets, nameof(targets));
        if (targets.Dimensions is < 1 or > 2 || targets.numel() == 0)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"has shape [{string.Join(", ", targets.shape)}]; a non-empty [N] or [N, K] tensor is required.");
        }

        TorchChecks.Finite(targets, nameof(targets));
        return targets.shape[0];
    }
}

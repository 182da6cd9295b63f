using Logits.Optimization;

namespace Logits.TorchSharp.Optimization;

/// <summary>
/// The target-based surrogate <c>g_t(z) = h(z_t) + ⟨G_t, z − z_t⟩ + ‖z − z_t‖²/(2η)</c> on torch tensors, differentiable
/// by autograd in z, so any torch model's parameters can take cheap steps on it (see <see cref="TorchSso"/>).
/// </summary>
/// <remarks>
/// <para>The torch form of <see cref="TargetSurrogate"/> (Lavington et al., <i>Target-based Surrogates for Stochastic
/// Optimization</i>, ICML 2023, arXiv 2302.02607): <c>g_t(z_t) = h(z_t)</c>, <c>∇g_t(z) = G_t + (z − z_t)/η</c>, the
/// target step <c>z_t − η·G_t</c> minimises it, and with η ≤ 1/L it majorises an L-smooth h
/// (<see cref="IsMajorizer"/>, reported, not enforced).</para>
/// <para>The surrogate keeps detached copies of z_t and G_t that it owns (outside any dispose scope) and frees on
/// <see cref="Dispose"/>; tensors it returns belong to the caller.</para>
/// </remarks>
public sealed class TorchTargetSurrogate : IDisposable
{
    private readonly Tensor _targets;
    private readonly Tensor _gradient;

    /// <summary>Creates the surrogate from the targets and the loss gradient at them (both copied and detached).</summary>
    /// <param name="targets">z_t, floating point, finite, at least one element.</param>
    /// <param name="targetGradient">G_t = ∇_z h(z_t), the same shape, finite.</param>
    /// <param name="eta">η, finite and &gt; 0.</param>
    /// <param name="lossAtTargets">h(z_t), finite.</param>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">Shapes differ, the dtype is not floating point, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eta"/> or <paramref name="lossAtTargets"/> is invalid.</exception>
    public TorchTargetSurrogate(Tensor targets, Tensor targetGradient, double eta, double lossAtTargets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(targetGradient);
        TorchChecks.Positive(eta, nameof(eta));
        LossAtTargets = Require.Finite(lossAtTargets, nameof(lossAtTargets));

        TorchChecks.Floating(targets, nameof(targets));
        if (targets.numel() == 0)
        {
            ThrowHelper.ThrowArgument(nameof(targets), "must hold at least one target.");
        }

        if (!targetGradient.shape.AsSpan().SequenceEqual(targets.shape))
        {
            ThrowHelper.ThrowArgument(nameof(targetGradient), $"has shape [{string.Join(", ", targetGradient.shape)}] but the targets have [{string.Join(", ", targets.shape)}].");
        }

        TorchChecks.Finite(targets, nameof(targets));
        TorchChecks.Finite(targetGradient, nameof(targetGradient));
        using (var scope = NewDisposeScope())
        {
            // Owned copies, detached from this scope (and any outer one) so that only Dispose frees them.
            _targets = targets.detach().clone().DetachFromDisposeScope();
            _gradient = targetGradient.detach().to_type(targets.dtype).clone().DetachFromDisposeScope();
        }

        Eta = eta;
    }

    /// <summary>η.</summary>
    public double Eta { get; }

    /// <summary>h(z_t).</summary>
    public double LossAtTargets { get; }

    /// <summary>z_t (owned by the surrogate; do not dispose).</summary>
    public Tensor Targets => _targets;

    /// <summary>G_t (owned by the surrogate; do not dispose).</summary>
    public Tensor TargetGradient => _gradient;

    /// <summary>The surrogate value at z, a scalar tensor differentiable in z.</summary>
    /// <param name="targets">z, the shape of z_t.</param>
    /// <returns><c>h(z_t) + ⟨G_t, z − z_t⟩ + ‖z − z_t‖²/(2η)</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">The shape differs.</exception>
    public Tensor Value(Tensor targets)
    {
        CheckShape(targets);
        using var scope = NewDisposeScope();
        using var inverse = (1 / (2 * Eta)).ToScalar();
        using var constant = LossAtTargets.ToScalar();
        var delta = targets.sub(_targets);
        var value = _gradient.mul(delta).sum().Plus(delta.Squared().sum().mul(inverse)).add(constant, TorchScalars.One);
        return value.MoveToOuterDisposeScope();
    }

    /// <summary>The surrogate gradient <c>G_t + (z − z_t)/η</c>.</summary>
    /// <param name="targets">z, the shape of z_t.</param>
    /// <returns>A new tensor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">The shape differs.</exception>
    public Tensor Gradient(Tensor targets)
    {
        CheckShape(targets);
        using var scope = NewDisposeScope();
        using var inverse = (1 / Eta).ToScalar();
        return _gradient.Plus(targets.sub(_targets).mul(inverse)).MoveToOuterDisposeScope();
    }

    /// <summary>The target step <c>z_t − η·G_t</c>, the surrogate's minimiser in target space.</summary>
    /// <returns>A new tensor.</returns>
    public Tensor TargetStep()
    {
        using var scope = NewDisposeScope();
        using var eta = Eta.ToScalar();
        return _targets.sub(_gradient.mul(eta)).MoveToOuterDisposeScope();
    }

    /// <summary>Whether η ≤ 1/L, the condition under which the surrogate majorises an L-smooth loss.</summary>
    /// <param name="smoothness">L, finite and &gt; 0 (see <see cref="LossSmoothness"/>).</param>
    /// <returns><see langword="true"/> when η·L ≤ 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="smoothness"/> is invalid.</exception>
    public bool IsMajorizer(double smoothness)
    {
        TorchChecks.Positive(smoothness, nameof(smoothness));
        return Eta * smoothness <= 1;
    }

    /// <summary>Frees the copies of z_t and G_t.</summary>
    public void Dispose()
    {
        _targets.Dispose();
        _gradient.Dispose();
    }

    private void CheckShape(Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (!targets.shape.AsSpan().SequenceEqual(_targets.shape))
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"has shape [{string.Join(", ", targets.shape)}] but the surrogate has [{string.Join(", ", _targets.shape)}].");
        }
    }
}

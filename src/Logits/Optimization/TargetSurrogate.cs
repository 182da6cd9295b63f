
namespace Logits.Optimization;

/// <summary>
/// The target-based surrogate <c>g_t(z) = h(z_t) + ⟨G_t, z − z_t⟩ + (1/(2η))·‖z − z_t‖²_F</c>, built from one expensive
/// loss gradient <c>G_t = ∇_z h(z_t)</c> in target (logit) space, and minimised over the parameters by cheap steps.
/// </summary>
/// <remarks>
/// <para>Source: Lavington, Vaswani, Babanezhad, Schmidt and Le Roux, <i>Target-based Surrogates for Stochastic
/// Optimization</i>, ICML 2023 (arXiv 2302.02607); the form agrees with their official code.</para>
/// <para>Properties: <c>g_t(z_t) = h(z_t)</c> and <c>∇g_t(z_t) = G_t</c>, so through any target map <c>z(θ)</c> the
/// surrogate touches <c>f = h∘z</c> at θ_t with the same gradient. If h is L-smooth in z and η ≤ 1/L
/// (<see cref="IsMajorizer"/>), then <c>g_t ≥ h</c> everywhere (the descent lemma in z-space), whatever <c>z(·)</c> is,
/// so any inner solver that does not increase g_t cannot increase f. Minimising g_t exactly over z is the target step
/// <c>z_{t+½} = z_t − η·G_t</c> (<see cref="TargetStep"/>); over the parameters it is the projection of that step onto
/// the realisable targets, <c>argmin_θ ‖z(θ) − z_{t+½}‖²</c>: SGD in target space followed by a projection.</para>
/// <para>Library decision: η ≤ 1/L is reported, not enforced, since larger steps are a legitimate choice.</para>
/// </remarks>
public sealed class TargetSurrogate
{
    private readonly double[] _targets;
    private readonly double[] _gradient;

    /// <summary>Creates the surrogate (the arrays are copied).</summary>
    /// <param name="targets">z_t, row-major <c>[N, K]</c>, finite.</param>
    /// <param name="targetGradient">G_t = ∇_z h(z_t), same length, finite.</param>
    /// <param name="width">K ≥ 1, dividing the length.</param>
    /// <param name="eta">η, finite and &gt; 0.</param>
    /// <param name="lossAtTargets">h(z_t), finite.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eta"/>, <paramref name="width"/> or
    /// <paramref name="lossAtTargets"/> is invalid.</exception>
    /// <exception cref="ArgumentException">Lengths do not fit or a value is not finite.</exception>
    public TargetSurrogate(ReadOnlySpan<double> targets, ReadOnlySpan<double> targetGradient, int width, double eta, double lossAtTargets)
    {
        Eta = Require.FinitePositive(eta, nameof(eta));

        Width = Require.AtLeast(width, 1, nameof(width));
        LossAtTargets = Require.Finite(lossAtTargets, nameof(lossAtTargets));

        if (targets.IsEmpty || targets.Length % width != 0)
        {
            ThrowHelper.ThrowArgument(nameof(targets), $"has {targets.Length} values, which is not a positive multiple of the width {width}.");
        }

        if (targetGradient.Length != targets.Length)
        {
            ThrowHelper.ThrowArgument(nameof(targetGradient), $"has {targetGradient.Length} values but the targets have {targets.Length}.");
        }

        Require.AllFinite(targets, nameof(targets));
        Require.AllFinite(targetGradient, nameof(targetGradient));
        _targets = targets.ToArray();
        _gradient = targetGradient.ToArray();
        Rows = targets.Length / width;
    }

    /// <summary>N, the number of rows (examples of the batch).</summary>
    public int Rows { get; }

    /// <summary>K, the targets per row.</summary>
    public int Width { get; }

    /// <summary>η, the target-space step.</summary>
    public double Eta { get; }

    /// <summary>h(z_t).</summary>
    public double LossAtTargets { get; }

    /// <summary>z_t, row-major <c>[N, K]</c>.</summary>
    public ReadOnlySpan<double> Targets => _targets;

    /// <summary>G_t, row-major <c>[N, K]</c>.</summary>
    public ReadOnlySpan<double> TargetGradient => _gradient;

    /// <summary>The surrogate value <c>g_t(z) = h(z_t) + ⟨G_t, z − z_t⟩ + ‖z − z_t‖²/(2η)</c>.</summary>
    /// <param name="targets">z, N·K values.</param>
    /// <returns>g_t(z) (non-finite z give a non-finite value).</returns>
    /// <exception cref="ArgumentException"><paramref name="targets"/> has the wrong length.</exception>
    public double Value(ReadOnlySpan<double> targets) => LossAtTargets + Increase(targets);

    /// <summary>Writes <c>∇g_t(z) = G_t + (z − z_t)/η</c>.</summary>
    /// <param name="targets">z, N·K values.</param>
    /// <param name="destination">Receives N·K values; may be <paramref name="targets"/> itself.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public void Gradient(ReadOnlySpan<double> targets, Span<double> destination)
    {
        CheckLength(targets, nameof(targets));
        CheckDestination(destination);
        double inverse = 1.0 / Eta;
        for (int i = 0; i < _targets.Length; i++)
        {
            destination[i] = _gradient[i] + ((targets[i] - _targets[i]) * inverse);
        }
    }

    /// <summary>Writes the exact minimiser in target space, <c>z_{t+½} = z_t − η·G_t</c>.</summary>
    /// <param name="destination">Receives N·K values.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public void TargetStep(Span<double> destination)
    {
        CheckDestination(destination);
        for (int i = 0; i < _targets.Length; i++)
        {
            destination[i] = _targets[i] - (Eta * _gradient[i]);
        }
    }

    /// <summary>Whether η ≤ 1/L, the condition under which g_t majorises an L-smooth loss h.</summary>
    /// <param name="smoothness">L of h in z, with h's reduction (see <see cref="LossSmoothness"/>); finite and &gt; 0.</param>
    /// <returns><see langword="true"/> when <c>η·L ≤ 1</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="smoothness"/> is not finite and positive.</exception>
    public bool IsMajorizer(double smoothness)
    {
        Require.FinitePositive(smoothness, nameof(smoothness));

        return Eta * smoothness <= 1;
    }

    /// <summary><c>g_t(z) − h(z_t)</c>, the part that inner solvers compare.</summary>
    internal double Increase(ReadOnlySpan<double> targets)
    {
        CheckLength(targets, nameof(targets));
        double linear = 0;
        double squared = 0;
        for (int i = 0; i < _targets.Length; i++)
        {
            double d = targets[i] - _targets[i];
            linear += _gradient[i] * d;
            squared += d * d;
        }

        return linear + (squared / (2 * Eta));
    }

    private void CheckLength(ReadOnlySpan<double> targets, string paramName)
    {
        if (targets.Length != _targets.Length)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {targets.Length} values but the surrogate has {_targets.Length} ({Rows} rows × {Width}).");
        }
    }

    private void CheckDestination(Span<double> destination)
    {
        if (destination.Length < _targets.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {_targets.Length} are required.");
        }
    }
}


namespace Logits.Diffusion;

/// <summary>The geometric schedule: <c>σ̄(τ) = σ_min^{1−τ}·σ_max^τ</c>.</summary>
/// <remarks>
/// <c>σ(τ) = σ̄(τ)·ln(σ_max/σ_min)</c>, <c>m(τ) = 1 − e^{−σ̄(τ)}</c>. Here Tweedie and Euler rates differ and Euler can exceed 1
/// on coarse grids (clamped); Tweedie is the consistent choice (docs/algorithms/discrete-diffusion.md#reverse-step). No defaults: the
/// caller chooses σ_min and σ_max.
/// </remarks>
public sealed class GeometricSchedule : MaskingSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="sigmaMin">σ_min, with <c>0 &lt; σ_min &lt; σ_max</c>.</param>
    /// <param name="sigmaMax">σ_max, finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">The bounds are not <c>0 &lt; σ_min &lt; σ_max &lt; ∞</c>.</exception>
    public GeometricSchedule(double sigmaMin, double sigmaMax)
    {
        if (!(sigmaMin > 0.0 && double.IsFinite(sigmaMin)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(sigmaMin), sigmaMin, "must be positive and finite");
        }

        if (!(sigmaMax > sigmaMin && double.IsFinite(sigmaMax)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(sigmaMax), sigmaMax, "must be finite and larger than sigmaMin");
        }

        SigmaMin = sigmaMin;
        SigmaMax = sigmaMax;
    }

    /// <summary>σ_min.</summary>
    public double SigmaMin { get; }

    /// <summary>σ_max.</summary>
    public double SigmaMax { get; }

    /// <inheritdoc />
    public override double CumulativeNoise(double t)
    {
        CheckTime(t, nameof(t));
        double tau = 1.0 - t;
        return Math.Pow(SigmaMin, 1.0 - tau) * Math.Pow(SigmaMax, tau);
    }

    /// <inheritdoc />
    public override double NoiseRate(double t) => CumulativeNoise(t) * Math.Log(SigmaMax / SigmaMin);
}

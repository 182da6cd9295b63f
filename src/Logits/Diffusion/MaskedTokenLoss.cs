
namespace Logits.Diffusion;

/// <summary>Weights and time samplers of the masked-token (RADD / LLaDA) training losses (docs/algorithms/discrete-diffusion.md#training-losses).</summary>
/// <remarks>
/// <para>
/// For one sequence, NLL = Σ_{masked i} −ln c_θ(x₀ⁱ | x_τ). Every variant weights it so the expectation upper-bounds the
/// negative log-likelihood, with the same minimiser: t-DCE (default, masking probability m(τ), weight
/// <see cref="TimeWeight"/> = 1/τ for log-linear), λ-DCE (masking probability λ, weight 1/λ), AO-ARM (k masked positions,
/// weight L/k), LLaDA (masking probability p = (1 − ε)τ + ε, weight 1/p). Accumulate weighted sums in float64.
/// The official t-DCE code adds a θ-independent term σ·s·ln expm1(σ̄); it does not change gradients and is omitted here.
/// Source: Ou et al. (RADD), arXiv 2406.03736; Nie et al. (LLaDA), arXiv 2502.09992.
/// </para>
/// </remarks>
public static class MaskedTokenLoss
{
    /// <summary>The default lower bound τ_min of the t-DCE time sampler.</summary>
    public const double DefaultTauMin = 1e-3;

    /// <summary>The t-DCE weight <c>w(τ) = σ(τ)e^{−σ̄}/(1 − e^{−σ̄})</c> at library time <paramref name="t"/> (log-linear: 1/τ).</summary>
    /// <param name="schedule">The masking schedule.</param>
    /// <param name="t">Library time in <c>[0, 1)</c>.</param>
    /// <returns>The weight.</returns>
    public static double TimeWeight(MaskingSchedule schedule, double t)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule.NoiseRate(t) * schedule.ScoreScale(t);
    }

    /// <summary>SEDD's score entropy for one masked position with <c>s_y = a·c_y</c>, which simplifies exactly to <c>σ(τ)·a·(−ln c_{x₀})</c>.</summary>
    /// <param name="schedule">The masking schedule.</param>
    /// <param name="t">Library time in <c>[0, 1)</c>.</param>
    /// <param name="trueTokenProbability">c_θ(x₀ | x_τ) in <c>(0, 1]</c>.</param>
    /// <returns>The per-position loss.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The probability is outside <c>(0, 1]</c>.</exception>
    public static double ScoreEntropy(MaskingSchedule schedule, double t, double trueTokenProbability)
    {
        if (!(trueTokenProbability > 0.0 && trueTokenProbability <= 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(trueTokenProbability), trueTokenProbability, "must be in (0, 1]");
        }

        return -TimeWeight(schedule, t) * Math.Log(trueTokenProbability);
    }

    /// <summary>The λ-DCE weight 1/λ.</summary>
    /// <param name="lambda">The masking probability λ in <c>(0, 1]</c>.</param>
    /// <returns>1/λ.</returns>
    /// <exception cref="ArgumentOutOfRangeException">λ outside <c>(0, 1]</c>.</exception>
    public static double LambdaWeight(double lambda)
    {
        if (!(lambda > 0.0 && lambda <= 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(lambda), lambda, "must be in (0, 1]");
        }

        return 1.0 / lambda;
    }

    /// <summary>The AO-ARM (k-DCE) weight L/k.</summary>
    /// <param name="length">L ≥ 1.</param>
    /// <param name="masked">k in <c>[1, L]</c>.</param>
    /// <returns>L/k.</returns>
    /// <exception cref="ArgumentOutOfRangeException">k outside <c>[1, L]</c>.</exception>
    public static double AnyOrderWeight(int length, int masked)
    {
        Require.AtLeast(length, 1, nameof(length));

        if (masked < 1 || masked > length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(masked), masked, $"must be in [1, {length}]");
        }

        return (double)length / masked;
    }

    /// <summary>LLaDA's pre-training weight 1/p for masking probability p.</summary>
    /// <param name="p">In <c>(0, 1]</c>.</param>
    /// <returns>1/p.</returns>
    /// <exception cref="ArgumentOutOfRangeException">p outside <c>(0, 1]</c>.</exception>
    public static double LladaWeight(double p)
    {
        if (!(p > 0.0 && p <= 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(p), p, "must be in (0, 1]");
        }

        return 1.0 / p;
    }

    /// <summary>
    /// The t-DCE low-discrepancy batch of times: <c>τ_i = (u₀ + i/B) mod 1</c>, mapped to <c>[τ_min, 1]</c> by
    /// <c>τ ← (1 − τ_min)τ + τ_min</c>, returned as library times <c>t_i = 1 − τ_i</c>.
    /// </summary>
    /// <param name="u0">One uniform in <c>[0, 1)</c>.</param>
    /// <param name="destination">Receives B library times.</param>
    /// <param name="tauMin">τ_min in <c>(0, 1)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="u0"/> or <paramref name="tauMin"/> out of range.</exception>
    public static void LowDiscrepancyTimes(double u0, Span<double> destination, double tauMin = DefaultTauMin)
    {
        Require.FractionBelowOne(u0, nameof(u0));

        if (!(tauMin > 0.0 && tauMin < 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tauMin), tauMin, "must be in (0, 1)");
        }

        int b = destination.Length;
        for (int i = 0; i < b; i++)
        {
            double tau = (u0 + ((double)i / b)) % 1.0;
            destination[i] = 1.0 - (((1.0 - tauMin) * tau) + tauMin);
        }
    }
}


namespace Logits.Diffusion;

/// <summary>The noise schedule of the absorbing (mask) forward process: how likely a token is to be masked at each time.</summary>
/// <remarks>
/// <para>
/// Public members take library time <c>t</c> (0 = fully masked noise, 1 = clean data); the formulas are written in the
/// papers' masking level <c>τ = 1 − t</c> (docs/algorithms/discrete-diffusion.md#time-and-tokens). Each token independently becomes the mask
/// token by level τ with probability <c>m(τ) = 1 − e^{−σ̄(τ)}</c>, where <c>σ̄</c> is the cumulative noise, and stays masked.
/// </para>
/// <para>Source: Ou et al., "Your Absorbing Discrete Diffusion Secretly Models the Conditional Distributions of Clean Data" (RADD), arXiv 2406.03736; Lou, Meng and Ermon (SEDD), ICML 2024.</para>
/// </remarks>
public abstract class MaskingSchedule
{
    /// <summary>The cumulative noise <c>σ̄(τ)</c> at library time <paramref name="t"/>.</summary>
    /// <param name="t">Library time in <c>[0, 1]</c>.</param>
    /// <returns><c>σ̄(1 − t)</c>.</returns>
    public abstract double CumulativeNoise(double t);

    /// <summary>The noise rate <c>σ(τ) = dσ̄/dτ</c> at library time <paramref name="t"/>.</summary>
    /// <param name="t">Library time in <c>[0, 1]</c>.</param>
    /// <returns><c>σ(1 − t)</c>.</returns>
    public abstract double NoiseRate(double t);

    /// <summary>The probability <c>m(τ) = 1 − e^{−σ̄(τ)}</c> that a token is masked at library time <paramref name="t"/>.</summary>
    /// <param name="t">Library time in <c>[0, 1]</c>.</param>
    /// <returns><c>−expm1(−σ̄)</c>, computed without cancellation.</returns>
    public virtual double MaskProbability(double t) => -ExpM1(-CumulativeNoise(t));

    /// <summary>RADD's analytic time factor <c>s(τ) = e^{−σ̄}/(1 − e^{−σ̄}) = 1/expm1(σ̄)</c> of the concrete score.</summary>
    /// <param name="t">Library time in <c>[0, 1)</c>.</param>
    /// <returns>The factor; the concrete score of revealing token y is this times the clean-data conditional <c>c(y | x)</c>.</returns>
    /// <remarks>The sampler never needs it (rates come from <see cref="MaskProbability"/>); it is here for SEDD-style scores and losses.</remarks>
    public double ScoreScale(double t) => 1.0 / ExpM1(CumulativeNoise(t));

    /// <summary>The probability <c>r</c> that a token still masked at library time <paramref name="t"/> is revealed by <paramref name="tNext"/>.</summary>
    /// <param name="t">The current library time.</param>
    /// <param name="tNext">The next library time, larger than <paramref name="t"/>.</param>
    /// <param name="method">Tweedie: <c>(m(τ) − m(τ′))/m(τ)</c>; Euler: <c>Δτ·m′(τ)/m(τ) = Δτ·σ(τ)e^{−σ̄}/(1 − e^{−σ̄})</c>.</param>
    /// <returns>The rate clamped to <c>[0, 1]</c> (Euler can exceed 1 on coarse grids of non-linear schedules; Tweedie is the consistent choice).</returns>
    /// <exception cref="ArgumentOutOfRangeException">An undefined <paramref name="method"/>.</exception>
    public double RevealRate(double t, double tNext, RaddUpdate method)
    {
        double m = MaskProbability(t);
        double rate;
        switch (method)
        {
            case RaddUpdate.Tweedie:
                rate = (m - MaskProbability(tNext)) / m;
                break;
            case RaddUpdate.Euler:
                double sigmaBar = CumulativeNoise(t);
                rate = (tNext - t) * NoiseRate(t) * Math.Exp(-sigmaBar) / m;
                break;
            default:
                ThrowHelper.ThrowArgumentOutOfRange(nameof(method), method, "must be Tweedie or Euler");
                return 0;
        }

        return double.IsNaN(rate) ? 1.0 : Math.Clamp(rate, 0.0, 1.0);
    }

    internal static double ExpM1(double x) => Math.Abs(x) < 0.5 ? ExpM1Series(x) : Math.Exp(x) - 1.0;

    // exp(x) - 1 = 2 tanh(x/2) / (1 - tanh(x/2)) is exact to rounding for small |x| (no cancellation).
    private static double ExpM1Series(double x)
    {
        double h = Math.Tanh(0.5 * x);
        return 2.0 * h / (1.0 - h);
    }

    /// <summary>Validates a library time.</summary>
    /// <param name="t">The time.</param>
    /// <param name="paramName">The caller's parameter name.</param>
    protected static void CheckTime(double t, string paramName)
    {
        if (!(t >= 0.0 && t <= 1.0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, t, "must be a library time in [0, 1]");
        }
    }
}


namespace Logits.Flows.Schedules;

/// <summary>
/// The continuous variance-preserving path of score SDEs (Song et al. 2021), in library time with <c>s = 1 − t</c>:
/// <c>α(t) = exp(−¼(β_max − β_min)s² − ½β_min·s)</c>, <c>σ(t) = √(1 − α²)</c>; or sub-VP with <c>σ(t) = 1 − α²</c>.
/// </summary>
/// <remarks>Defaults β_min = 0.1, β_max = 20. <c>α′(t) = α·(½(β_max − β_min)s + ½β_min)</c>; σ′ follows by the chain rule.
/// At t = 0, 1/α ≈ 152 amplifies errors of ε-to-x̂0 conversions; start later if that matters.</remarks>
public sealed class VpSchedule : DiffusionSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="betaMin">β_min, finite, 0 ≤ β_min ≤ β_max.</param>
    /// <param name="betaMax">β_max, finite and &gt; 0.</param>
    /// <param name="subVp">Use the sub-VP noise coefficient <c>1 − α²</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or NaN.</exception>
    public VpSchedule(double betaMin = 0.1, double betaMax = 20, bool subVp = false)
    {
        Require.FinitePositive(betaMax, nameof(betaMax));

        if (!(betaMin >= 0 && betaMin <= betaMax))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(betaMin), betaMin, $"must be in [0, betaMax = {betaMax}]");
        }

        BetaMin = betaMin;
        BetaMax = betaMax;
        IsSubVp = subVp;
    }

    /// <summary>β_min.</summary>
    public double BetaMin { get; }

    /// <summary>β_max.</summary>
    public double BetaMax { get; }

    /// <summary>Whether this is the sub-VP path.</summary>
    public bool IsSubVp { get; }

    /// <inheritdoc />
    public override string Name => IsSubVp ? "sub-vp" : "vp";

    /// <inheritdoc />
    public override double Alpha(double t)
    {
        ValidateTime(t);
        double s = 1 - t;
        return Math.Exp((-0.25 * (BetaMax - BetaMin) * s * s) - (0.5 * BetaMin * s));
    }

    /// <inheritdoc />
    public override double Sigma(double t)
    {
        double a = Alpha(t);
        return IsSubVp ? 1 - (a * a) : Math.Sqrt(1 - (a * a));
    }

    /// <inheritdoc />
    public override double AlphaDerivative(double t)
    {
        double s = 1 - t;
        return Alpha(t) * ((0.5 * (BetaMax - BetaMin) * s) + (0.5 * BetaMin));
    }

    /// <inheritdoc />
    public override double SigmaDerivative(double t)
    {
        double a = Alpha(t);
        double da = AlphaDerivative(t);
        return IsSubVp ? -2 * a * da : -a * da / Math.Sqrt(1 - (a * a));
    }
}

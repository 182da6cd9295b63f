
namespace Logits.Diffusion;

/// <summary>The log-linear schedule (RADD and SEDD default): <c>σ̄(τ) = −ln(1 − (1 − ε)τ)</c>, so <c>m(τ) = (1 − ε)τ</c>.</summary>
/// <remarks>
/// <para>
/// <c>σ(τ) = (1 − ε)/(1 − (1 − ε)τ)</c> and <c>s(τ) = (1 − (1 − ε)τ)/((1 − ε)τ)</c>. Both Tweedie and Euler reveal rates are
/// exactly <c>Δτ/τ</c> (library time: <c>Δt/(1 − t)</c>), independent of ε (docs/algorithms/discrete-diffusion.md#reverse-step).
/// At τ = 1 with ε = 1e-3, 99.9% of tokens are masked.
/// </para>
/// </remarks>
public sealed class LogLinearSchedule : MaskingSchedule
{
    /// <summary>The floor used by RADD and SEDD.</summary>
    public const double DefaultFloor = 1e-3;

    /// <summary>Creates the schedule.</summary>
    /// <param name="floor">ε, in <c>[0, 1)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="floor"/> outside <c>[0, 1)</c> or NaN.</exception>
    public LogLinearSchedule(double floor = DefaultFloor)
    {
        Floor = Require.FractionBelowOne(floor, nameof(floor));

    }

    /// <summary>The floor ε.</summary>
    public double Floor { get; }

    /// <inheritdoc />
    public override double CumulativeNoise(double t)
    {
        CheckTime(t, nameof(t));
        return -Math.Log(1.0 - ((1.0 - Floor) * (1.0 - t)));
    }

    /// <inheritdoc />
    public override double NoiseRate(double t)
    {
        CheckTime(t, nameof(t));
        return (1.0 - Floor) / (1.0 - ((1.0 - Floor) * (1.0 - t)));
    }

    /// <inheritdoc />
    public override double MaskProbability(double t)
    {
        CheckTime(t, nameof(t));
        return (1.0 - Floor) * (1.0 - t);
    }
}

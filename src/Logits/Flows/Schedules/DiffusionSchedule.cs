
namespace Logits.Flows.Schedules;

/// <summary>
/// A diffusion path <c>x_t = α_t·x_data + σ_t·ε</c> in library time (t = 0 noise, t = 1 data; docs/algorithms/flows.md#schedules).
/// </summary>
/// <remarks>
/// Continuous schedules also give <c>α′(t)</c> and <c>σ′(t)</c> (derivatives in library time); discrete ones throw
/// <see cref="NotSupportedException"/> for them. Times are never clamped: a time outside [0, 1] throws
/// <see cref="ArgumentOutOfRangeException"/>, and a discrete schedule also rejects times off its grid.
/// </remarks>
public abstract class DiffusionSchedule
{
    /// <summary>A short name, e.g. <c>"vp"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="AlphaDerivative"/> and <see cref="SigmaDerivative"/> are available.</summary>
    public virtual bool HasDerivatives => true;

    /// <summary>The signal coefficient α(t).</summary>
    /// <param name="t">The library time.</param>
    /// <returns>α(t).</returns>
    public abstract double Alpha(double t);

    /// <summary>The noise coefficient σ(t).</summary>
    /// <param name="t">The library time.</param>
    /// <returns>σ(t).</returns>
    public abstract double Sigma(double t);

    /// <summary>dα/dt in library time.</summary>
    /// <param name="t">The library time.</param>
    /// <returns>α′(t).</returns>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public virtual double AlphaDerivative(double t) => throw NotSupported();

    /// <summary>dσ/dt in library time.</summary>
    /// <param name="t">The library time.</param>
    /// <returns>σ′(t).</returns>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public virtual double SigmaDerivative(double t) => throw NotSupported();

    /// <summary>The DDIM sampling times <c>t_0 &lt; … &lt; t_N = 1</c> for <paramref name="steps"/> steps: <c>i/N</c> for
    /// continuous schedules; the "trailing" grid for discrete ones.</summary>
    /// <param name="steps">N ≥ 1.</param>
    /// <returns>N + 1 times.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is out of range.</exception>
    public virtual double[] SamplingTimes(int steps)
    {
        if (steps < 1 || steps > 1 << 30)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, "must be in [1, 2^30]");
        }

        var times = new double[steps + 1];
        for (int i = 0; i <= steps; i++)
        {
            times[i] = (double)i / steps;
        }

        return times;
    }

    /// <summary>Throws unless t ∈ [0, 1].</summary>
    /// <param name="t">The time.</param>
    protected static void ValidateTime(double t) => FlowChecks.Time(t, nameof(t));

    private NotSupportedException NotSupported() =>
        new($"The schedule '{Name}' is discrete and has no time derivative; velocity conversions need a continuous schedule.");
}

namespace Logits.Flows.Training;

/// <summary>
/// rfpp's time weights of the LPIPS-Huber objective, rewritten in library time (docs/algorithms/flows.md#time-weights):
/// <c>L(t) = w_H(t)·H_c(v − u) + w_P(t)·P(x̂, x)</c> with <c>x̂ = x_t + (1 − t)·v</c>.
/// </summary>
/// <remarks>
/// In rfpp's time <c>t' = 1 − t</c> the Huber weight is <c>(1 − t')</c>, i.e. <c>w_H(t) = t</c> here, and
/// <c>lpips_divt</c> divides the perceptual term by <c>t'</c>, i.e. by <c>1 − t</c> here. The perceptual
/// distance P itself is user code. Example: t = 0.7 gives w_H = 0.7 and w_P = 3.333333 with the division.
/// </remarks>
public static class RfppWeights
{
    /// <summary>The Huber-term weight <c>w_H(t) = t</c> (rfpp's "(1 − t)" weighting).</summary>
    /// <param name="t">The library time in [0, 1].</param>
    /// <returns>t.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1] or NaN.</exception>
    public static double Huber(double t)
    {
        FlowChecks.Time(t, nameof(t));
        return t;
    }

    /// <summary>The perceptual-term weight: 1, or <c>1/(1 − t)</c> with <paramref name="divideByNoiseTime"/>.</summary>
    /// <param name="t">The library time; with the division it must lie in <c>[δ, 1 − δ]</c>.</param>
    /// <param name="divideByNoiseTime">rfpp's <c>lpips_divt</c>.</param>
    /// <param name="delta">The time sampler's truncation δ (default 1e-5); must be in (0, 0.5) with the division.</param>
    /// <returns>The weight.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A parameter is out of range (never clamped).</exception>
    public static double Perceptual(double t, bool divideByNoiseTime, double delta = 1e-5)
    {
        FlowChecks.Time(t, nameof(t));
        if (!divideByNoiseTime)
        {
            return 1;
        }

        if (!(delta > 0 && delta < 0.5))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(delta), delta, "must be in (0, 0.5) when dividing by 1 - t");
        }

        if (t < delta || t > 1 - delta)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(t), t, $"must be in [{delta}, {1 - delta}] when dividing by 1 - t");
        }

        return 1 / (1 - t);
    }
}

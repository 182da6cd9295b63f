using System;

namespace Logits.Tests.Infrastructure;

/// <summary>The one tolerance policy for comparing kernel outputs with references and across backends.</summary>
public static class Tolerance
{
    /// <summary>Relative tolerance of the library's numerics contract (docs/algorithms/conventions.md): 1e-5.</summary>
    public const double Relative = 1e-5;

    /// <summary>
    /// Absolute floor for values near zero: probabilities below ~1e-30 are denormal-range noise in float32.
    /// </summary>
    public const double AbsoluteFloor = 1e-30;

    /// <summary>
    /// Whether <paramref name="actual"/> matches <paramref name="expected"/>: equal infinities, or
    /// <c>|a - e| ≤ Relative · max(|e|, scale) + AbsoluteFloor</c>.
    /// </summary>
    /// <param name="actual">The value under test.</param>
    /// <param name="expected">The reference value.</param>
    /// <param name="scale">
    /// The magnitude the value was computed from (e.g. the largest |logit| of the row for log-softmax,
    /// where cancellation makes relative error of a tiny result meaningless). Defaults to 0.
    /// </param>
    public static bool Close(double actual, double expected, double scale = 0)
    {
        if (double.IsInfinity(expected) || double.IsNaN(expected))
        {
            return actual.Equals(expected);
        }

        if (double.IsInfinity(actual) || double.IsNaN(actual))
        {
            return false;
        }

        return Math.Abs(actual - expected) <= Relative * Math.Max(Math.Abs(expected), scale) + AbsoluteFloor;
    }
}

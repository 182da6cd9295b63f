using System;

namespace Logits;

/// <summary>
/// Range checks that return the value they accept, so a constructor or an <c>init</c> accessor validates and stores in one
/// line (<c>init => field = Require.AtLeast(value, 1, nameof(Width));</c>). Each throws
/// <see cref="ArgumentOutOfRangeException"/> naming the parameter, through <see cref="ThrowHelper"/>.
/// </summary>
internal static class Require
{
    /// <summary><paramref name="value"/> ≥ <paramref name="minimum"/>.</summary>
    public static int AtLeast(int value, int minimum, string paramName)
    {
        if (value < minimum)
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, $"must be at least {minimum}");
        }

        return value;
    }

    /// <summary><paramref name="value"/> is finite and &gt; 0.</summary>
    public static double FinitePositive(double value, string paramName)
    {
        if (!(value > 0 && double.IsFinite(value)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and greater than 0");
        }

        return value;
    }

    /// <summary><paramref name="value"/> is finite and ≥ 0.</summary>
    public static double FiniteNonNegative(double value, string paramName)
    {
        if (!(value >= 0 && double.IsFinite(value)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and at least 0");
        }

        return value;
    }

    /// <summary>A fraction below one (a dropout rate, a decay, a floor): <paramref name="value"/> in <c>[0, 1)</c>.</summary>
    public static double FractionBelowOne(double value, string paramName)
    {
        if (!(value >= 0 && value < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be in [0, 1)");
        }

        return value;
    }
}

using System.Numerics;

namespace Logits;

/// <summary>
/// Argument checks shared outside the kernel layer, so one rule gives one message everywhere. The value checks return the
/// value they accept, so a constructor or an <c>init</c> accessor validates and stores in one line
/// (<c>init => field = Require.AtLeast(value, 1, nameof(Width));</c>) and throw <see cref="ArgumentOutOfRangeException"/>;
/// the span checks throw <see cref="ArgumentException"/>; both name the parameter, through <see cref="ThrowHelper"/>.
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

    /// <summary><paramref name="value"/> ≥ <paramref name="minimum"/>.</summary>
    public static long AtLeast(long value, long minimum, string paramName)
    {
        if (value < minimum)
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, $"must be at least {minimum}");
        }

        return value;
    }

    /// <summary><paramref name="value"/> is finite and &gt; 0 (reported in single precision).</summary>
    public static float FinitePositive(float value, string paramName)
    {
        if (!(value > 0 && float.IsFinite(value)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and greater than 0");
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

    /// <summary><paramref name="value"/> is finite (neither NaN nor infinite).</summary>
    public static double Finite(double value, string paramName)
    {
        if (!double.IsFinite(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite");
        }

        return value;
    }

    /// <summary><paramref name="value"/> is one of the named values of <typeparamref name="TEnum"/>.</summary>
    public static TEnum Defined<TEnum>(TEnum value, string paramName)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, $"must be a defined {typeof(TEnum).Name} ({string.Join(", ", Enum.GetNames<TEnum>())})");
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

    /// <summary>Every element of <paramref name="values"/> is finite (the first that is not is named by its index).</summary>
    /// <exception cref="ArgumentException">An element is NaN or infinite.</exception>
    public static void AllFinite(ReadOnlySpan<double> values, string paramName)
    {
        int i = IndexOfNonFinite(values);
        if (i >= 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"holds the non-finite value {values[i]} at index {i}.");
        }
    }

    /// <summary>The index of the first NaN or infinite element of <paramref name="values"/>, or −1 when all are finite
    /// (for callers that name the position in their own terms: row and token, row and class).</summary>
    public static int IndexOfNonFinite<T>(ReadOnlySpan<T> values)
        where T : INumberBase<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A span length equals the one required: <paramref name="actual"/> = <paramref name="expected"/>.</summary>
    /// <param name="actual">The length given.</param>
    /// <param name="expected">The length required.</param>
    /// <param name="paramName">The argument.</param>
    /// <param name="why">Optional: the rule, appended in parentheses.</param>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static void Length(int actual, int expected, string paramName, string? why = null)
    {
        if (actual != expected)
        {
            ThrowHelper.ThrowArgument(paramName, why is null
                ? $"has length {actual} but {expected} is required."
                : $"has length {actual} but {expected} is required ({why}).");
        }
    }

    /// <summary>A destination is long enough: <paramref name="actual"/> ≥ <paramref name="required"/>.</summary>
    /// <exception cref="ArgumentException">It is shorter.</exception>
    public static void LengthAtLeast(int actual, int required, string paramName)
    {
        if (actual < required)
        {
            ThrowHelper.ThrowArgument(paramName, $"has length {actual} but {required} is required.");
        }
    }
}

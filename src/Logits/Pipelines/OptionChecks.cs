
namespace Logits.Pipelines;

/// <summary>
/// Range checks for option classes and mappings: a value outside its range (NaN included) throws
/// <see cref="ArgumentOutOfRangeException"/> whose parameter name is the option the caller set, so only the
/// documented "off" values can leave a step out.
/// </summary>
internal static class OptionChecks
{
    /// <summary>Any finite value.</summary>
    public static void Finite(double value, string option)
    {
        if (!double.IsFinite(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, "must be finite");
        }
    }

    /// <summary>A finite value in <c>[min, max]</c>.</summary>
    public static void Closed(double value, double min, double max, string option, string offNote)
    {
        if (!(value >= min && value <= max))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be in [{min}, {max}] ({offNote})");
        }
    }

    /// <summary>A finite value in <c>(min, max]</c>.</summary>
    public static void LeftOpen(double value, double min, double max, string option, string offNote)
    {
        if (!(value > min && value <= max))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be in ({min}, {max}] ({offNote})");
        }
    }

    /// <summary>A finite value in <c>[min, max)</c>.</summary>
    public static void RightOpen(double value, double min, double max, string option, string offNote)
    {
        if (!(value >= min && value < max))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be in [{min}, {max}) ({offNote})");
        }
    }

    /// <summary>A finite value of at least <paramref name="min"/>.</summary>
    public static void AtLeast(double value, double min, string option, string offNote)
    {
        if (!(value >= min) || double.IsPositiveInfinity(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be finite and at least {min} ({offNote})");
        }
    }

    /// <summary>A finite value greater than <paramref name="min"/>.</summary>
    public static void Above(double value, double min, string option, string offNote)
    {
        if (!(value > min) || double.IsPositiveInfinity(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be finite and greater than {min} ({offNote})");
        }
    }

    /// <summary>An integer of at least <paramref name="min"/>.</summary>
    public static void AtLeast(int value, int min, string option, string offNote)
    {
        if (value < min)
        {
            ThrowHelper.ThrowArgumentOutOfRange(option, value, $"must be at least {min} ({offNote})");
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Logits;

/// <summary>Cold-path throw helpers, kept out of the hot loops.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string paramName, object? actualValue, string rule) =>
        throw new ArgumentOutOfRangeException(paramName, actualValue, $"'{paramName}' {rule}; got {Format(actualValue)}.");

    [DoesNotReturn]
    public static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException($"'{paramName}' {message}", paramName);

    [DoesNotReturn]
    public static void ThrowInvalidLogits(int row, int tokenIndex, float value, string stage) =>
        throw new InvalidLogitsException(row, tokenIndex, value, stage);

    [DoesNotReturn]
    public static void ThrowNoViableToken(int row, string stage) =>
        throw new NoViableTokenException(row, stage);

    private static string Format(object? value) => value switch
    {
        null => "null",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}

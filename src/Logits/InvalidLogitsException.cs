
namespace Logits;

/// <summary>
/// Thrown when a logit batch holds a value that is never valid as a logit: NaN or positive infinity.
/// </summary>
/// <remarks>
/// NaN and <c>+∞</c> are rejected rather than repaired (docs/algorithms/conventions.md#non-finite-input). <see cref="Row"/> and
/// <see cref="TokenIndex"/> locate the first offending entry (lowest row, then lowest token);
/// <see cref="Stage"/> says where it was seen: <c>"input"</c>, or the kernel or processor whose
/// output held it (for example <c>"scale"</c> when a tiny factor overflowed a finite logit).
/// </remarks>
public sealed class InvalidLogitsException : ArgumentException
{
    /// <summary>Creates the exception for the entry at <paramref name="row"/>, <paramref name="tokenIndex"/>.</summary>
    /// <param name="row">The row index of the offending entry.</param>
    /// <param name="tokenIndex">The token index (column) of the offending entry.</param>
    /// <param name="value">The offending value (NaN or +∞).</param>
    /// <param name="stage">Where the value was seen: <c>"input"</c> or the kernel/processor name.</param>
    public InvalidLogitsException(int row, int tokenIndex, float value, string stage)
        : base($"Row {row} holds an invalid logit {FormatValue(value)} at token {tokenIndex} (stage '{stage}'); NaN and +infinity are never valid logits.")
    {
        Row = row;
        TokenIndex = tokenIndex;
        Value = value;
        Stage = stage;
    }

    /// <summary>Creates the exception with a message only (for serializers and tooling).</summary>
    /// <param name="message">The message.</param>
    public InvalidLogitsException(string message)
        : base(message)
    {
        Stage = "unknown";
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidLogitsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = "unknown";
    }

    /// <summary>Creates the exception without details.</summary>
    public InvalidLogitsException()
        : this("A logit batch holds NaN or +infinity.")
    {
    }

    /// <summary>The row index of the offending entry.</summary>
    public int Row { get; }

    /// <summary>The token index (column) of the offending entry.</summary>
    public int TokenIndex { get; }

    /// <summary>The offending value: NaN or <c>+∞</c>.</summary>
    public float Value { get; }

    /// <summary>Where the value was seen: <c>"input"</c> or the kernel or processor name.</summary>
    public string Stage { get; }

    private static string FormatValue(float value) =>
        float.IsNaN(value) ? "NaN" : value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}

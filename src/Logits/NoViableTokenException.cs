
namespace Logits;

/// <summary>
/// Thrown when a row has no finite logit left (every entry is <c>-∞</c>), so no distribution or
/// token can be formed from it.
/// </summary>
/// <remarks>
/// An all-<c>-∞</c> row is never turned into token 0 or NaN probabilities (docs/algorithms/conventions.md#empty-rows).
/// Truncation cannot empty a row; constraints (allowed tokens, bans) can.
/// </remarks>
public sealed class NoViableTokenException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="row"/>.</summary>
    /// <param name="row">The row index whose logits are all <c>-∞</c>.</param>
    /// <param name="stage">The kernel or processor that met the empty row, or <c>"unknown"</c>.</param>
    public NoViableTokenException(int row, string stage)
        : base($"Row {row} has no viable token: every logit is -infinity (stage '{stage}').")
    {
        Row = row;
        Stage = stage;
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">The message.</param>
    public NoViableTokenException(string message)
        : base(message)
    {
        Stage = "unknown";
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public NoViableTokenException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = "unknown";
    }

    /// <summary>Creates the exception without details.</summary>
    public NoViableTokenException()
        : this("A row has no viable token: every logit is -infinity.")
    {
    }

    /// <summary>The row index whose logits are all <c>-∞</c>.</summary>
    public int Row { get; }

    /// <summary>The kernel or processor that met the empty row, or <c>"unknown"</c>.</summary>
    public string Stage { get; }
}

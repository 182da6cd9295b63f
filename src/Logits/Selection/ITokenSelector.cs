using Logits.Processing;

namespace Logits.Selection;

/// <summary>The last step of a pipeline: picks one token id per row from processed logits.</summary>
/// <remarks>
/// A selector never returns a removed (<c>-∞</c>) token: an all-<c>-∞</c> row throws
/// <see cref="NoViableTokenException"/> and NaN/<c>+∞</c> throws <see cref="InvalidLogitsException"/>
/// (docs/algorithms/conventions.md#non-finite-input, docs/algorithms/conventions.md#empty-rows). Seeded selectors own one random stream per row.
/// </remarks>
public interface ITokenSelector
{
    /// <summary>A short, stable name (e.g. <c>"greedy"</c>).</summary>
    string Name { get; }

    /// <summary>Selects one token per row; <paramref name="logits"/> is not modified.</summary>
    /// <param name="logits">The processed logits.</param>
    /// <param name="contexts">One context per row.</param>
    /// <param name="destination">One token id per row.</param>
    void SelectTokens(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination);
}

using Logits.Processing;

namespace Logits.Selection;

/// <summary>Greedy selection: the argmax of each row, ties to the lowest index, <c>-0 = +0</c>.</summary>
/// <remarks>Stateless and thread-safe. A greedy pipeline skips argmax-invariant processors (docs/algorithms/conventions.md#shared-rules).</remarks>
public sealed class GreedySelector : ITokenSelector
{
    /// <summary>The shared instance.</summary>
    public static GreedySelector Instance { get; } = new();

    /// <inheritdoc />
    public string Name => "greedy";

    /// <inheritdoc />
    public void SelectTokens(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination)
    {
        SelectorGuards.Validate(logits, contexts, destination);
        logits.Kernels.ArgMax(logits, destination[..logits.Rows]);
    }
}

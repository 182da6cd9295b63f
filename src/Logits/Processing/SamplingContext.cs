
namespace Logits.Processing;

/// <summary>
/// What a processor or selector may read about one row besides its logits: the token history
/// (prompt followed by output), where the prompt ends, the end-of-sequence ids and the row index.
/// </summary>
/// <remarks>
/// <para>The context is the one place that names the end-of-sequence ids: the processors that need them
/// (<see cref="Constraints.MinLengthProcessor"/>, <see cref="Constraints.MinNewTokensProcessor"/>,
/// <see cref="Constraints.ForcedEosProcessor"/>, <see cref="Constraints.ExponentialDecayLengthPenaltyProcessor"/> and
/// <see cref="Constraints.BadWordsProcessor"/>) read them from here, row by row, and
/// <see cref="Generation.TokenGenerator"/> fills them from <see cref="Generation.GenerationOptions.EosTokenIds"/>.</para>
/// <para>The owner (a generator or the caller) updates the history between steps with
/// <see cref="SetHistory"/>; processors only read. Negative history ids are padding and are ignored by
/// every processor (docs/algorithms/penalties.md#history-scope-and-window).</para>
/// </remarks>
public sealed class SamplingContext
{
    private static readonly int[] NoIds = Array.Empty<int>();
    private Penalties.HistoryCounts? _counts;

    /// <summary>Creates the context of <paramref name="row"/> with an empty history.</summary>
    /// <param name="row">The row index in the batch, reported in errors.</param>
    /// <param name="eosTokenIds">End-of-sequence ids (may be empty; duplicates are kept once); copied.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is negative.</exception>
    /// <exception cref="ArgumentException">An EOS id is negative.</exception>
    public SamplingContext(int row = 0, IEnumerable<int>? eosTokenIds = null)
    {
        if (row < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, "must be at least 0");
        }

        Row = row;
        EosIds = eosTokenIds is null ? NoIds : Constraints.TokenIdSets.Distinct(eosTokenIds, nameof(eosTokenIds), allowEmpty: true);
    }

    /// <summary>The row index in the batch.</summary>
    public int Row { get; }

    /// <summary>The token history, prompt first, then the generated tokens.</summary>
    public ReadOnlyMemory<int> History { get; private set; }

    /// <summary>How many leading history tokens are the prompt.</summary>
    public int PromptLength { get; private set; }

    /// <summary>The number of generated tokens: <c>History.Length - PromptLength</c>.</summary>
    public int Generated => History.Length - PromptLength;

    /// <summary>The end-of-sequence token ids, sorted and distinct.</summary>
    public IReadOnlyList<int> EosTokenIds => EosIds;

    /// <summary>The end-of-sequence ids as an array (sorted, distinct), for the processors.</summary>
    internal int[] EosIds { get; }

    /// <summary>Replaces the history without copying it.</summary>
    /// <param name="history">Prompt followed by output tokens.</param>
    /// <remarks>
    /// <para>The context keeps <paramref name="history"/> itself, not a copy, so a generator can append to one buffer
    /// and call this once per step without allocating. The contract: processors read the history only during a
    /// <see cref="Pipelines.LogitPipeline"/> call that receives this context, so the caller must not write to that
    /// memory while such a call runs (on any thread), and may change or reuse it between calls; the context sees
    /// whatever the memory holds at the next call. The whole-scope penalties keep their token counts with the context
    /// between calls, but each call first checks that the history still begins with what they counted (one vectorised
    /// comparison) and counts only what was appended, or everything again if anything else changed; no other state is
    /// derived from the history across calls.
    /// An <see cref="Constraints.AllowedTokensCallback"/> receives the same memory and must not keep it past the call.</para>
    /// <para>To hand over a history that the caller will keep modifying concurrently, pass a copy
    /// (<c>history.ToArray()</c>).</para>
    /// </remarks>
    /// <param name="promptLength">How many leading tokens are the prompt, in <c>[0, history.Length]</c>.</param>
    /// <returns>This context.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="promptLength"/> is outside <c>[0, history.Length]</c>.</exception>
    public SamplingContext SetHistory(ReadOnlyMemory<int> history, int promptLength)
    {
        if (promptLength < 0 || promptLength > history.Length)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(promptLength), promptLength, $"must be in [0, {history.Length}] (the history length)");
        }

        History = history;
        PromptLength = promptLength;
        return this;
    }

    /// <summary>
    /// Lends this context's history counts to one call (<see cref="Penalties.HistoryCounts"/>): the kept instance, or a
    /// fresh one while another thread holds it. Give it back with <see cref="ReturnCounts"/>.
    /// </summary>
    internal Penalties.HistoryCounts TakeCounts() => Interlocked.Exchange(ref _counts, null) ?? new Penalties.HistoryCounts();

    /// <summary>Keeps <paramref name="counts"/> for the next call (the last one returned wins).</summary>
    internal void ReturnCounts(Penalties.HistoryCounts counts) => Volatile.Write(ref _counts, counts);

    /// <summary>Creates one context per row, each with an empty history.</summary>
    /// <param name="rows">The number of rows, at least 1.</param>
    /// <param name="eosTokenIds">End-of-sequence ids shared by all rows.</param>
    /// <returns>The contexts, indexed by row.</returns>
    public static SamplingContext[] ForRows(int rows, IEnumerable<int>? eosTokenIds = null)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), rows, "must be at least 1");
        }

        var ids = eosTokenIds is null ? null : new List<int>(eosTokenIds);
        var contexts = new SamplingContext[rows];
        for (int r = 0; r < rows; r++)
        {
            contexts[r] = new SamplingContext(r, ids);
        }

        return contexts;
    }
}

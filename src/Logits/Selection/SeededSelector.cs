using Logits.Processing;
using Logits.Randomness;

namespace Logits.Selection;

/// <summary>
/// The selectors that draw random numbers (multinomial, Gumbel, Mirostat): one xoshiro256** stream per row, row
/// <c>r</c> seeded <c>Seed + r</c> (docs/algorithms/selection.md#random-streams), so the same seed gives the same
/// tokens whatever the thread count or batch split.
/// </summary>
/// <remarks>
/// The base checks the call (one context and one destination slot per row), grows the streams (and any per-row state
/// of the subclass) to the batch's rows, and implements the stateful hooks: <see cref="Reset"/> reseeds every row,
/// <see cref="Clone"/> copies the stream positions and the subclass's state, <see cref="Accept"/> does nothing (the
/// state moves at selection). Stateful: not thread-safe; give each thread its own <see cref="Clone"/>. The family is
/// closed: the constructor is not accessible outside the library.
/// </remarks>
public abstract class SeededSelector : ITokenSelector, IStatefulSampler
{
    private Xoshiro256StarStar[] _streams = Array.Empty<Xoshiro256StarStar>();

    private protected SeededSelector(ulong seed) => Seed = seed;

    /// <summary>The batch seed; row <c>r</c> uses <c>seed + r</c>.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public void SelectTokens(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination)
    {
        SelectorGuards.Validate(logits, contexts, destination);
        EnsureRows(logits.RowOffset + logits.Rows);
        SelectCore(logits, destination[..logits.Rows]);
    }

    /// <summary>Does nothing: the seeded selectors' state moves when they select.</summary>
    /// <param name="row">The row.</param>
    /// <param name="token">The accepted token.</param>
    public void Accept(int row, int token)
    {
    }

    /// <inheritdoc />
    public void Reset()
    {
        _streams = Array.Empty<Xoshiro256StarStar>();
        ResetRowState();
    }

    /// <inheritdoc />
    public IStatefulSampler Clone()
    {
        var copy = CreateCopy();
        copy._streams = SelectorGuards.CloneStreams(_streams);
        return copy;
    }

    /// <summary>Grows the streams and per-row state to a batch of <paramref name="rows"/> rows before its row blocks run concurrently.</summary>
    internal void PrepareRowBlocks(int rows)
    {
        EnsureRows(rows);
        EnsureBuffers(rows);
    }

    /// <summary>Grows the subclass's per-call scratch to <paramref name="rows"/> rows (indexed like the streams).</summary>
    private protected virtual void EnsureBuffers(int rows)
    {
    }

    /// <summary>
    /// Selects one token per row; the streams cover every row. Row <c>r</c> of <paramref name="logits"/> is row
    /// <c>logits.RowOffset + r</c> of the whole batch (a row block, see <c>Pipelines.RowBlocks</c>): its stream, state and
    /// scratch sit at that index.
    /// </summary>
    private protected abstract void SelectCore(LogitBatch logits, Span<int> destination);

    /// <summary>A selector with the same settings and a copy of the subclass's per-row state (the base copies the streams).</summary>
    private protected abstract SeededSelector CreateCopy();

    /// <summary>Grows the subclass's per-row state to <paramref name="rows"/> rows (existing rows keep theirs).</summary>
    private protected virtual void EnsureRowState(int rows)
    {
    }

    /// <summary>Returns the subclass's per-row state to its construction value.</summary>
    private protected virtual void ResetRowState()
    {
    }

    /// <summary>Row <paramref name="row"/>'s stream.</summary>
    private protected Xoshiro256StarStar Stream(int row) => _streams[row];

    /// <summary>The per-row streams (at least one per row after <see cref="EnsureRows"/>), for the kernels that draw from them.</summary>
    private protected System.Collections.Generic.IReadOnlyList<IRandomSource> Streams => _streams;

    /// <summary>Grows the streams and the subclass's state so rows <c>[0, rows)</c> exist.</summary>
    private protected void EnsureRows(int rows)
    {
        SelectorGuards.EnsureStreams(ref _streams, Seed, rows);
        EnsureRowState(rows);
    }
}

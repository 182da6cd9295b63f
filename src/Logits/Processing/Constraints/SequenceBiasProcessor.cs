
namespace Logits.Processing.Constraints;

/// <summary>Sequence bias: biases a token when the history ends with a given prefix (single tokens always).</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#sequence-bias; HF <c>SequenceBiasLogitsProcessor</c>): for each entry
/// <c>(s_1 … s_L, b)</c>, <c>L = 1</c> adds <c>b</c> to <c>z_(s_1)</c> at every step; <c>L &gt; 1</c> adds
/// <c>b</c> to <c>z_(s_L)</c> when the history ends with <c>s_1 … s_(L-1)</c>. Matching entries
/// <b>accumulate</b>: their biases are summed per token in float64, rounded once, and added. <c>-∞</c> is
/// sticky.</para>
/// <para>Library decisions: negative history ids are padding and are skipped when the suffix is matched;
/// an empty entry list is a valid no-op; every id of every entry must be below the vocabulary size (checked
/// on first use, ParamName <c>entries</c>). Not argmax-invariant.</para>
/// </remarks>
public sealed class SequenceBiasProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly SequenceBiasTable _table;
    private readonly SequenceBias[] _entries;

    /// <summary>Creates the processor.</summary>
    /// <param name="entries">The (sequence, bias) entries; each validated by <see cref="SequenceBias"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="entries"/> or an entry is null.</exception>
    public SequenceBiasProcessor(IEnumerable<SequenceBias> entries)
        : base(RowMaximaUse.None)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = new List<SequenceBias>();
        foreach (var entry in entries)
        {
            if (entry is null)
            {
                ThrowHelper.ThrowArgument(nameof(entries), "holds a null entry.");
            }

            list.Add(entry);
        }

        _entries = list.ToArray();
        _table = new SequenceBiasTable(_entries);
    }

    /// <summary>The entries, in the order given.</summary>
    public IReadOnlyList<SequenceBias> Entries => _entries;

    /// <inheritdoc />
    public override string Name => "sequence-bias";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An entry holds an id at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        _table.Apply(logits, contexts, "entries");
}

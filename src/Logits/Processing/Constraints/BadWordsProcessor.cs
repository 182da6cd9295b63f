
namespace Logits.Processing.Constraints;

/// <summary>Bad words: bans a token when the history ends with the rest of a banned sequence (single tokens always).</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#bad-words; HF <c>NoBadWordsLogitsProcessor</c>): a <see cref="SequenceBiasProcessor"/>
/// whose every bias is <c>-∞</c>. A one-token sequence equal to one of the row's end-of-sequence ids
/// (<see cref="SamplingContext.EosTokenIds"/>) is not applied in that row (HF drops it), so EOS cannot be
/// banned by accident; a row without EOS ids bans every sequence.</para>
/// <para>Negative history ids are padding and are skipped when the suffix is matched. Ids must be below the
/// vocabulary size (checked on every call, ParamName <c>sequences</c>). Not argmax-invariant.</para>
/// </remarks>
public sealed class BadWordsProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly SequenceBiasTable _table;
    private readonly IReadOnlyList<int>[] _sequences;
    private readonly int[] _singles;

    /// <summary>Creates the processor.</summary>
    /// <param name="sequences">The banned sequences, each non-empty with ids ≥ 0; may be empty.</param>
    /// <exception cref="ArgumentNullException"><paramref name="sequences"/> or a sequence is null.</exception>
    /// <exception cref="ArgumentException">A sequence is empty or holds a negative id.</exception>
    public BadWordsProcessor(IEnumerable<IEnumerable<int>> sequences)
        : base(RowMaximaUse.None)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var all = new List<IReadOnlyList<int>>();
        var longer = new List<SequenceBias>();
        var singles = new List<int>();
        foreach (var sequence in sequences)
        {
            if (sequence is null)
            {
                ThrowHelper.ThrowArgument(nameof(sequences), "holds a null sequence.");
            }

            var tokens = new List<int>(sequence);
            if (tokens.Count == 0)
            {
                ThrowHelper.ThrowArgument(nameof(sequences), "holds an empty sequence.");
            }

            foreach (int id in tokens)
            {
                if (id < 0)
                {
                    ThrowHelper.ThrowArgument(nameof(sequences), $"holds the negative token id {id}; token ids are at least 0.");
                }
            }

            var entry = new SequenceBias(tokens, double.NegativeInfinity);
            all.Add(entry.Tokens);
            if (tokens.Count == 1)
            {
                singles.Add(tokens[0]);
            }
            else
            {
                longer.Add(entry);
            }
        }

        _sequences = all.ToArray();
        _singles = TokenIdSets.Distinct(singles, nameof(sequences), allowEmpty: true);
        _table = new SequenceBiasTable(longer);
    }

    /// <summary>The banned sequences, as given.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Sequences => _sequences;

    /// <inheritdoc />
    public override string Name => "bad-words";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A sequence or a row's EOS id is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        TokenIdSets.CheckEos(contexts, rows, logits.Vocab, Name, required: false, logits.RowOffset);
        TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_singles), logits.Vocab, "sequences");
        _table.Apply(logits, contexts, "sequences");
        if (_singles.Length == 0)
        {
            return;
        }

        int width = _singles.Length;
        var ids = LogitProcessorBuffers.RentInts(rows * width);
        var values = LogitProcessorBuffers.RentFloats(rows * width);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                int[] eos = contexts[r].EosIds;
                var rowIds = ids.AsSpan(r * width, width);
                for (int j = 0; j < width; j++)
                {
                    // A single EOS id is never banned in its row (as HF drops it).
                    rowIds[j] = eos.Length > 0 && Array.BinarySearch(eos, _singles[j]) >= 0 ? -1 : _singles[j];
                }
            }

            values.AsSpan(0, rows * width).Fill(float.NegativeInfinity);
            logits.Kernels.Scatter(logits, ids.AsSpan(0, rows * width), values.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
            LogitProcessorBuffers.Return(values);
        }
    }
}

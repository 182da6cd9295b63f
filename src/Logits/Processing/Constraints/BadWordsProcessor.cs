using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Constraints;

/// <summary>Bad words: bans a token when the history ends with the rest of a banned sequence (single tokens always).</summary>
/// <remarks>
/// <para>Rule (spec/sampling.md §3c; HF <c>NoBadWordsLogitsProcessor</c>): a <see cref="SequenceBiasProcessor"/>
/// whose every bias is <c>-∞</c>. A sequence equal to a single EOS id is dropped at construction (as HF),
/// so EOS cannot be banned by accident; if nothing remains, the processor is a valid no-op.</para>
/// <para>Negative history ids are padding and are skipped when the suffix is matched. Ids must be below the
/// vocabulary size (checked on first use, ParamName <c>sequences</c>). Not argmax-invariant.</para>
/// </remarks>
public sealed class BadWordsProcessor : LogitProcessor
{
    private readonly SequenceBiasTable _table;
    private readonly IReadOnlyList<int>[] _sequences;

    /// <summary>Creates the processor.</summary>
    /// <param name="sequences">The banned sequences, each non-empty with ids ≥ 0; may be empty.</param>
    /// <param name="eosTokenIds">The EOS ids: a one-token sequence equal to one of them is dropped. May be empty.</param>
    /// <exception cref="ArgumentNullException">An argument or a sequence is null.</exception>
    /// <exception cref="ArgumentException">A sequence is empty, or a sequence or EOS id is negative.</exception>
    public BadWordsProcessor(IEnumerable<IEnumerable<int>> sequences, IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var eos = TokenIdSets.Distinct(eosTokenIds, nameof(eosTokenIds), allowEmpty: true);
        var kept = new List<SequenceBias>();
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

            if (tokens.Count == 1 && Array.BinarySearch(eos, tokens[0]) >= 0)
            {
                continue;
            }

            kept.Add(new SequenceBias(tokens, float.NegativeInfinity));
        }

        _sequences = new IReadOnlyList<int>[kept.Count];
        for (int i = 0; i < kept.Count; i++)
        {
            _sequences[i] = kept[i].Tokens;
        }

        EosTokenIds = eos;
        _table = new SequenceBiasTable(kept);
    }

    /// <summary>The banned sequences kept after dropping single EOS ids.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Sequences => _sequences;

    /// <summary>The EOS ids given (sorted, distinct).</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <inheritdoc />
    public override string Name => "bad-words";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A sequence holds an id at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        _table.Apply(logits, contexts, "sequences");
}

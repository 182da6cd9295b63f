using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Constraints;

/// <summary>
/// The shared part of <see cref="MinLengthProcessor"/> and <see cref="MinNewTokensProcessor"/>: the validated
/// EOS and extra stop ids, and banning them (<c>-∞</c>) in the rows still below a length.
/// </summary>
internal sealed class EndOfSequenceBan
{
    private readonly int[] _banned;

    public EndOfSequenceBan(IEnumerable<int> eosTokenIds, IEnumerable<int>? stopTokenIds)
    {
        EosTokenIds = TokenIdSets.Distinct(eosTokenIds, nameof(eosTokenIds), allowEmpty: false);
        StopTokenIds = TokenIdSets.Distinct(stopTokenIds ?? Array.Empty<int>(), nameof(stopTokenIds), allowEmpty: true);
        var all = new List<int>(EosTokenIds);
        all.AddRange(StopTokenIds);
        _banned = TokenIdSets.Distinct(all, nameof(eosTokenIds), allowEmpty: false);
    }

    /// <summary>The EOS ids (sorted, distinct).</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The extra stop ids (sorted, distinct; may be empty).</summary>
    public IReadOnlyList<int> StopTokenIds { get; }

    /// <summary>
    /// Bans the ids in every row whose length is below <paramref name="minimum"/>: the whole history when
    /// <paramref name="countPrompt"/> is true (min length), the generated tokens otherwise (min new tokens).
    /// </summary>
    public void Apply(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, int minimum, bool countPrompt)
    {
        TokenIdSets.EnsureBelowVocab(EosTokenIds[^1], logits.Vocab, "eosTokenIds");
        if (StopTokenIds.Count > 0)
        {
            TokenIdSets.EnsureBelowVocab(StopTokenIds[^1], logits.Vocab, "stopTokenIds");
        }

        int rows = logits.Rows;
        var active = TokenIdSets.RentFlags(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                int length = countPrompt ? contexts[r].History.Length : contexts[r].Generated;
                active[r] = length < minimum;
                any |= active[r];
            }

            if (any)
            {
                TokenIdSets.SetInRows(logits, _banned, float.NegativeInfinity, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Constraints;

/// <summary>
/// The shared part of <see cref="MinLengthProcessor"/> and <see cref="MinNewTokensProcessor"/>: the validated
/// extra stop ids, and banning each row's EOS ids (from its <see cref="SamplingContext"/>) and the stop ids
/// (<c>-∞</c>) in the rows still below a length.
/// </summary>
internal sealed class EndOfSequenceBan
{
    private readonly int[] _stop;

    public EndOfSequenceBan(IEnumerable<int>? stopTokenIds)
    {
        _stop = TokenIdSets.Distinct(stopTokenIds ?? Array.Empty<int>(), nameof(stopTokenIds), allowEmpty: true);
    }

    /// <summary>The extra stop ids (sorted, distinct; may be empty).</summary>
    public IReadOnlyList<int> StopTokenIds => _stop;

    /// <summary>
    /// Bans the ids in every row whose length is below <paramref name="minimum"/>: the whole history when
    /// <paramref name="countPrompt"/> is true (min length), the generated tokens otherwise (min new tokens).
    /// </summary>
    public void Apply(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, int minimum, bool countPrompt, string processor)
    {
        int rows = logits.Rows;
        TokenIdSets.CheckEos(contexts, rows, logits.Vocab, processor, required: true);
        TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_stop), logits.Vocab, "stopTokenIds");
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
                TokenIdSets.SetEosInRows(logits, contexts, _stop, float.NegativeInfinity, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

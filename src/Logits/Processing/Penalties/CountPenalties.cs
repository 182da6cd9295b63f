
namespace Logits.Processing.Penalties;

/// <summary>
/// The shared engine of the repetition, frequency and presence penalties: one scan of each row's history
/// window into a count table (no O(V) work), then one PenalizeTokens kernel call with a divisor and an offset per
/// touched id (evaluated in float64 on the batch's backend; no logit crosses to the host).
/// </summary>
internal static class CountPenalties
{
    private const int RepetitionBit = 2;

    /// <summary>Throws unless every value is finite and greater than 0.</summary>
    public static PerRow<double> ValidateRepetition(PerRow<double> penalty, string paramName)
    {
        foreach (double value in penalty.Values())
        {
            if (!(value > 0) || !double.IsFinite(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and greater than 0 (1 = no penalty)");
            }
        }

        return penalty;
    }

    /// <summary>Throws unless every value is finite.</summary>
    public static PerRow<double> ValidateAdditive(PerRow<double> penalty, string paramName)
    {
        foreach (double value in penalty.Values())
        {
            if (!double.IsFinite(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite (0 = no penalty)");
            }
        }

        return penalty;
    }

    /// <summary>
    /// Applies, per row, the repetition penalty <paramref name="repetition"/> over its window, then
    /// <c>z_t -= c_t·α_f + [c_t &gt; 0]·α_p</c> over the frequency/presence window.
    /// </summary>
    public static void Apply(
        LogitBatch logits,
        IReadOnlyList<SamplingContext> contexts,
        PerRow<double> repetition,
        PenaltyScope repetitionScope,
        PerRow<double> frequency,
        PerRow<double> presence,
        PenaltyScope frequencyPresenceScope,
        int window,
        bool normalizeFirst,
        string stage)
    {
        if (normalizeFirst)
        {
            // HF's normalize: the row becomes log-probabilities (all ≤ 0), so every penalised token is multiplied.
            logits.Kernels.LogSoftmax(logits, logits);
        }

        int rows = logits.Rows;
        int longest = PenaltyHistory.Longest(contexts);

        if (longest == 0)
        {
            return;
        }

        // A row lists at most one id per non-padding token of the longer of its two windows (both end at the
        // history's end, so one contains the other): with a window, buffers are sized by it, not by the history,
        // so a growing history stops renting larger arrays once it is longer than the window.
        if (window != PenaltyHistory.WholeScope)
        {
            longest = Math.Min(longest, window);
        }

        var touched = LogitProcessorBuffers.RentInts(longest);
        var edits = new SparseRowEdits(rows, Math.Min(longest, 1024));
        try
        {
            for (int r = 0; r < rows; r++)
            {
                // θ = 1 and α_f = α_p = 0 leave a row as it is: such a row reads no history.
                var rule = new RowRule(repetition.For(logits.RowOffset + r) != 1, repetitionScope, frequency.For(logits.RowOffset + r) != 0 || presence.For(logits.RowOffset + r) != 0, frequencyPresenceScope);
                if (rule.Repetition || rule.FrequencyPresence)
                {
                    if (window == PenaltyHistory.WholeScope)
                    {
                        CollectCounted(contexts[r], logits.RowOffset + r, logits.Vocab, rule, ref edits);
                    }
                    else
                    {
                        CollectRow(contexts[r], logits.RowOffset + r, logits.Vocab, rule, window, touched, ref edits);
                    }
                }

                edits.EndRow();
            }

            if (!edits.PreparePenalties())
            {
                return;
            }

            for (int r = 0; r < rows; r++)
            {
                double theta = repetition.For(logits.RowOffset + r);
                double alphaF = frequency.For(logits.RowOffset + r);
                double alphaP = presence.For(logits.RowOffset + r);
                for (int e = edits.RowStart(r); e < edits.RowEnd(r); e++)
                {
                    // θ = 1 and δ = 0 leave a value exactly as it is (z/1, z·1 and z - 0 are exact).
                    int count = edits.Count(e);
                    edits.Divisor(r, e) = (edits.Flag(e) & RepetitionBit) != 0 ? theta : 1.0;
                    edits.Offset(r, e) = count > 0 ? (count * alphaF) + alphaP : 0.0;
                }
            }

            edits.Penalize(logits, stage);
        }
        finally
        {
            edits.Dispose();
            LogitProcessorBuffers.Return(touched);
        }
    }

    /// <summary>
    /// The edits of one row from its context's kept <see cref="HistoryCounts"/> (whole scopes only): after the
    /// history's appended tokens are counted, each distinct id's counts in the prompt and the output give its window
    /// membership and its count under either scope, so no history token is visited again.
    /// </summary>
    private static void CollectCounted(SamplingContext context, int row, int vocab, RowRule rule, ref SparseRowEdits edits)
    {
        bool repetitionActive = rule.Repetition;
        bool frequencyPresenceActive = rule.FrequencyPresence;
        var counts = context.TakeCounts();
        try
        {
            bool repetitionWholeHistory = repetitionActive && rule.RepetitionScope == PenaltyScope.PromptAndOutput;
            bool frequencyWholeHistory = frequencyPresenceActive && rule.FrequencyPresenceScope == PenaltyScope.PromptAndOutput;

            // As the window scan: the prompt is read (and its ids checked) only when an active penalty covers it.
            int from = repetitionWholeHistory || frequencyWholeHistory ? 0 : context.PromptLength;
            counts.Update(context.History.Span, context.PromptLength, from, vocab, row);
            var ids = counts.Ids;
            var inPrompt = counts.InPrompt;
            var inOutput = counts.InOutput;
            int promptWeightRepetition = repetitionWholeHistory ? 1 : 0;
            int promptWeightFrequency = frequencyWholeHistory ? 1 : 0;
            for (int slot = 0; slot < ids.Length; slot++)
            {
                int repetitionCount = (promptWeightRepetition * inPrompt[slot]) + inOutput[slot];
                int count = frequencyPresenceActive ? (promptWeightFrequency * inPrompt[slot]) + inOutput[slot] : 0;
                int flag = repetitionActive && repetitionCount > 0 ? RepetitionBit : 0;
                if (flag != 0 || count > 0)
                {
                    edits.Add(ids[slot], count, flag);
                }
            }
        }
        finally
        {
            context.ReturnCounts(counts);
        }
    }

    private static void CollectRow(SamplingContext context, int row, int vocab, RowRule rule, int window, int[] touched, ref SparseRowEdits edits)
    {
        bool repetitionActive = rule.Repetition;
        bool frequencyPresenceActive = rule.FrequencyPresence;
        var history = context.History.Span;
        int repetitionStart = repetitionActive
            ? PenaltyHistory.WindowStart(history, PenaltyHistory.ScopeStart(context, rule.RepetitionScope), window)
            : int.MaxValue;
        int frequencyPresenceStart = frequencyPresenceActive
            ? PenaltyHistory.WindowStart(history, PenaltyHistory.ScopeStart(context, rule.FrequencyPresenceScope), window)
            : int.MaxValue;

        // One scan of the union of both windows into a per-thread table indexed by token id (all zero between
        // calls): (count << 2) | window tags, with each id listed once at its first occurrence; then the listed
        // entries are emitted and cleared. O(history) per row (a sort of the tagged ids cost ~5× more at 4096).
        var table = CountTable.For(vocab);
        int n = 0;
        for (int position = Math.Min(repetitionStart, frequencyPresenceStart); position < history.Length; position++)
        {
            int id = history[position];
            if (id < 0)
            {
                continue;
            }

            if (id >= vocab)
            {
                ClearTouched(table, touched, n);
                PenaltyHistory.ThrowIdOutOfRange(id, position, row, vocab);
            }

            int entry = table[id];
            if (entry == 0)
            {
                touched[n++] = id;
                entry = Listed;
            }

            if (position >= frequencyPresenceStart)
            {
                entry += 1 << CountShift;
            }

            if (position >= repetitionStart)
            {
                entry |= RepetitionBit;
            }

            table[id] = entry;
        }

        for (int i = 0; i < n; i++)
        {
            int id = touched[i];
            int entry = table[id];
            edits.Add(id, entry >> CountShift, entry & RepetitionBit);
            table[id] = 0;
        }
    }

    /// <summary>Which penalties act on a row (θ ≠ 1; α_f or α_p ≠ 0) and the scope of each.</summary>
    private readonly record struct RowRule(bool Repetition, PenaltyScope RepetitionScope, bool FrequencyPresence, PenaltyScope FrequencyPresenceScope);

    /// <summary>A table entry's count starts at this bit; bit 0 marks a listed id, bit 1 the repetition window.</summary>
    private const int CountShift = 2;

    /// <summary>Marks a table entry whose id is in the touched list (so an id seen only in one window is listed once).</summary>
    private const int Listed = 1;

    private static void ClearTouched(int[] table, int[] touched, int n)
    {
        for (int i = 0; i < n; i++)
        {
            table[touched[i]] = 0;
        }
    }

    /// <summary>Per-thread count tables, as long as the largest vocabulary seen on the thread, all zero between uses.</summary>
    private static class CountTable
    {
        [ThreadStatic]
        private static int[]? t_table;

        public static int[] For(int vocab)
        {
            var table = t_table;
            if (table is null || table.Length < vocab)
            {
                t_table = table = new int[vocab];
            }

            return table;
        }
    }
}

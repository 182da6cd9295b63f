
namespace Logits.Processing.Penalties;

/// <summary>
/// The shared engine of the repetition, frequency and presence penalties: each row's edits (a divisor and an offset per
/// distinct id, no O(V) work) from the counts kept with its context (whole scopes) or from one scan of its window into
/// a count table, then one PenalizeTokens kernel call (evaluated in float64 on the batch's backend; no logit crosses to
/// the host).
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
        var settings = new Settings(repetition, repetitionScope, frequency, presence, frequencyPresenceScope);

        if (longest == 0)
        {
            return;
        }

        if (window == PenaltyHistory.WholeScope)
        {
            if (rows == 1)
            {
                ApplyCountedRow(logits, contexts[0], settings.RuleFor(logits.RowOffset), stage);
            }
            else
            {
                ApplyCounted(logits, contexts, settings, stage);
            }

            return;
        }

        // A row lists at most one id per non-padding token of the longer of its two windows (both end at the
        // history's end, so one contains the other): buffers are sized by the window, not by the history, so a growing
        // history stops renting larger arrays once it is longer than the window.
        longest = Math.Min(longest, window);
        var touched = LogitProcessorBuffers.RentInts(longest);
        var edits = new SparseRowEdits(rows, Math.Min(longest, 1024));
        try
        {
            for (int r = 0; r < rows; r++)
            {
                // θ = 1 and α_f = α_p = 0 leave a row as it is: such a row reads no history.
                var rule = settings.RuleFor(logits.RowOffset + r);
                if (rule.Repetition || rule.FrequencyPresence)
                {
                    CollectRow(contexts[r], logits.RowOffset + r, logits.Vocab, rule, window, touched, ref edits);
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

    /// <summary>The penalty parameters of one call (per-row or shared), from which each row's rule is read.</summary>
    private readonly record struct Settings(
        PerRow<double> Repetition,
        PenaltyScope RepetitionScope,
        PerRow<double> Frequency,
        PerRow<double> Presence,
        PenaltyScope FrequencyPresenceScope)
    {
        /// <summary>
        /// Row <paramref name="row"/>'s rule: which penalties act (θ ≠ 1; α_f or α_p ≠ 0), the scope of each and their
        /// parameters. A row with neither reads no history.
        /// </summary>
        public RowRule RuleFor(int row)
        {
            double theta = Repetition.For(row);
            double alphaF = Frequency.For(row);
            double alphaP = Presence.For(row);
            return new RowRule(theta != 1, RepetitionScope, alphaF != 0 || alphaP != 0, FrequencyPresenceScope, theta, alphaF, alphaP);
        }
    }

    /// <summary>
    /// One row from its context's kept <see cref="HistoryCounts"/> (whole scopes only): the appended history tokens are
    /// counted, the edits of the ids whose counts changed are computed again, and the kept edits go to the kernel as
    /// they are, so a steady decode step costs the history comparison and one kernel pass over the distinct ids.
    /// </summary>
    private static void ApplyCountedRow(LogitBatch logits, SamplingContext context, RowRule rule, string stage)
    {
        if (!rule.Repetition && !rule.FrequencyPresence)
        {
            return;
        }

        var counts = context.TakeCounts();
        try
        {
            var edits = UpdateCounts(counts, context, logits.RowOffset, logits.Vocab, rule);
            if (!edits.Ids.IsEmpty)
            {
                SparseRowEdits.Penalize(logits, edits.Ids, edits.Divisors, edits.Offsets, stage);
            }
        }
        finally
        {
            context.ReturnCounts(counts);
        }
    }

    /// <summary>
    /// Every row from its context's kept <see cref="HistoryCounts"/> (whole scopes only), in one kernel call: each row's
    /// kept edits are copied into the batch's padded id, divisor and offset lists.
    /// </summary>
    private static void ApplyCounted(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Settings settings, string stage)
    {
        int rows = logits.Rows;
        var held = ArrayPool<HistoryCounts?>.Shared.Rent(rows);
        int[]? ids = null;
        double[]? divisors = null;
        double[]? offsets = null;
        try
        {
            // Counts are brought up to date row by row, in order (a bad id throws for the first row that has one).
            int width = 0;
            for (int r = 0; r < rows; r++)
            {
                var rule = settings.RuleFor(logits.RowOffset + r);
                if (rule.Repetition || rule.FrequencyPresence)
                {
                    var counts = held[r] = contexts[r].TakeCounts();
                    width = Math.Max(width, UpdateCounts(counts, contexts[r], logits.RowOffset + r, logits.Vocab, rule).Ids.Length);
                }
            }

            if (width == 0)
            {
                return;
            }

            int length = rows * width;
            ids = LogitProcessorBuffers.RentInts(length);
            divisors = LogitProcessorBuffers.RentDoubles(length);
            offsets = LogitProcessorBuffers.RentDoubles(length);
            for (int r = 0; r < rows; r++)
            {
                int start = r * width;
                int used = 0;
                if (held[r] is { } counts)
                {
                    // Prepared by UpdateCounts above with this row's rule: nothing is computed again.
                    var edits = counts.Prepared;
                    edits.Ids.CopyTo(ids.AsSpan(start));
                    edits.Divisors.CopyTo(divisors.AsSpan(start));
                    edits.Offsets.CopyTo(offsets.AsSpan(start));
                    used = edits.Ids.Length;
                }

                ids.AsSpan(start + used, width - used).Fill(-1);
                divisors.AsSpan(start + used, width - used).Fill(1.0);
                offsets.AsSpan(start + used, width - used).Clear();
            }

            SparseRowEdits.Penalize(logits, ids.AsSpan(0, length), divisors.AsSpan(0, length), offsets.AsSpan(0, length), stage);
        }
        finally
        {
            for (int r = 0; r < rows; r++)
            {
                if (held[r] is { } counts)
                {
                    contexts[r].ReturnCounts(counts);
                    held[r] = null;
                }
            }

            ArrayPool<HistoryCounts?>.Shared.Return(held);
            if (ids is not null)
            {
                LogitProcessorBuffers.Return(ids);
                LogitProcessorBuffers.Return(divisors!);
                LogitProcessorBuffers.Return(offsets!);
            }
        }
    }

    /// <summary>Counts the context's appended history tokens and returns the row's edits under <paramref name="rule"/>.</summary>
    private static PreparedEdits UpdateCounts(HistoryCounts counts, SamplingContext context, int row, int vocab, RowRule rule)
    {
        bool repetitionWholeHistory = rule.Repetition && rule.RepetitionScope == PenaltyScope.PromptAndOutput;
        bool frequencyWholeHistory = rule.FrequencyPresence && rule.FrequencyPresenceScope == PenaltyScope.PromptAndOutput;

        // As the window scan: the prompt is read (and its ids checked) only when an active penalty covers it.
        int from = repetitionWholeHistory || frequencyWholeHistory ? 0 : context.PromptLength;
        counts.Update(context.History.Span, context.PromptLength, from, vocab, row);
        return counts.Prepare(new EditRule(
            rule.Repetition,
            repetitionWholeHistory ? 1 : 0,
            rule.Theta,
            rule.FrequencyPresence,
            frequencyWholeHistory ? 1 : 0,
            rule.Frequency,
            rule.Presence));
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

    /// <summary>Which penalties act on a row (θ ≠ 1; α_f or α_p ≠ 0), the scope of each, and the row's parameters.</summary>
    private readonly record struct RowRule(
        bool Repetition,
        PenaltyScope RepetitionScope,
        bool FrequencyPresence,
        PenaltyScope FrequencyPresenceScope,
        double Theta,
        double Frequency,
        double Presence);

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

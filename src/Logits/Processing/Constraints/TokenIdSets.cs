
namespace Logits.Processing.Constraints;

/// <summary>Validation of token-id parameters and the id-list scatters shared by the constraint processors.</summary>
internal static class TokenIdSets
{
    /// <summary>
    /// Copies <paramref name="ids"/> into a sorted array without duplicates. Negative ids (and, unless
    /// <paramref name="allowEmpty"/>, an empty set) are structural errors: <see cref="ArgumentException"/>.
    /// </summary>
    public static int[] Distinct(IEnumerable<int>? ids, string paramName, bool allowEmpty)
    {
        ArgumentNullException.ThrowIfNull(ids, paramName);
        var set = new SortedSet<int>();
        foreach (int id in ids)
        {
            if (id < 0)
            {
                ThrowHelper.ThrowArgument(paramName, $"holds the negative token id {id}; token ids are at least 0.");
            }

            set.Add(id);
        }

        if (set.Count == 0 && !allowEmpty)
        {
            ThrowHelper.ThrowArgument(paramName, "must hold at least one token id.");
        }

        var result = new int[set.Count];
        set.CopyTo(result);
        return result;
    }

    /// <summary>The largest id of a sorted set, or -1 when it is empty.</summary>
    public static int Max(int[] sortedIds) => sortedIds.Length == 0 ? -1 : sortedIds[^1];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="maxId"/> is not below the vocabulary size (on first use, docs/algorithms/conventions.md#shared-rules).</summary>
    public static void EnsureBelowVocab(int maxId, int vocab, string paramName)
    {
        if (maxId >= vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, maxId, $"holds a token id that must be below the vocabulary size {vocab}");
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> at every id of <paramref name="ids"/> in the rows where
    /// <paramref name="active"/> is set (one Scatter call; other rows get padding).
    /// </summary>
    public static void SetInRows(LogitBatch logits, int[] ids, float value, ReadOnlySpan<bool> active)
    {
        int rows = logits.Rows;
        int width = ids.Length;
        if (width == 0)
        {
            return;
        }

        var rowIds = LogitProcessorBuffers.RentInts(rows * width);
        var values = LogitProcessorBuffers.RentFloats(rows * width);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var destination = rowIds.AsSpan(r * width, width);
                if (active[r])
                {
                    ids.CopyTo(destination);
                }
                else
                {
                    destination.Fill(-1);
                }
            }

            values.AsSpan(0, rows * width).Fill(value);
            logits.Kernels.Scatter(logits, rowIds.AsSpan(0, rows * width), values.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(rowIds);
            LogitProcessorBuffers.Return(values);
        }
    }

    /// <summary>
    /// Checks every row's end-of-sequence ids (from its <see cref="SamplingContext"/>, the one place that names
    /// them) against the vocabulary; with <paramref name="required"/>, a row without any is an error naming
    /// <paramref name="processor"/>.
    /// </summary>
    /// <remarks>Rows are named <c>rowOffset + r</c>: the batch's <c>RowOffset</c> (a row block's first row).</remarks>
    /// <exception cref="InvalidOperationException">A row's context has no EOS ids while they are required.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An EOS id is at least the vocabulary size.</exception>
    public static void CheckEos(IReadOnlyList<SamplingContext> contexts, int rows, int vocab, string processor, bool required, int rowOffset)
    {
        for (int r = 0; r < rows; r++)
        {
            int[] eos = contexts[r].EosIds;
            if (eos.Length == 0)
            {
                if (required)
                {
                    throw new InvalidOperationException(
                        $"The '{processor}' processor needs the end-of-sequence ids, but the SamplingContext of row {rowOffset + r} has none: " +
                        "create the contexts with eosTokenIds (TokenGenerator fills them from GenerationOptions.EosTokenIds).");
                }

                continue;
            }

            if (eos[^1] >= vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(
                    "eosTokenIds", eos[^1], $"of the SamplingContext of row {rowOffset + r} must be below the vocabulary size {vocab} ('{processor}')");
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="value"/> at each active row's own EOS ids (from its context) and at
    /// <paramref name="extraIds"/> (one Scatter call; other rows and short rows get padding).
    /// </summary>
    public static void SetEosInRows(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, int[] extraIds, float value, ReadOnlySpan<bool> active)
    {
        int rows = logits.Rows;
        int width = 0;
        for (int r = 0; r < rows; r++)
        {
            if (active[r])
            {
                width = Math.Max(width, contexts[r].EosIds.Length + extraIds.Length);
            }
        }

        if (width == 0)
        {
            return;
        }

        var rowIds = LogitProcessorBuffers.RentInts(rows * width);
        var values = LogitProcessorBuffers.RentFloats(rows * width);
        try
        {
            var all = rowIds.AsSpan(0, rows * width);
            all.Fill(-1);
            for (int r = 0; r < rows; r++)
            {
                if (active[r])
                {
                    int[] eos = contexts[r].EosIds;
                    eos.CopyTo(all.Slice(r * width));
                    extraIds.CopyTo(all.Slice((r * width) + eos.Length));
                }
            }

            values.AsSpan(0, rows * width).Fill(value);
            logits.Kernels.Scatter(logits, all, values.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(rowIds);
            LogitProcessorBuffers.Return(values);
        }
    }

    /// <summary>Forces each active row to its own EOS ids: every other token becomes <c>-∞</c>, the EOS ids 0.</summary>
    public static void ForceEosInRows(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<bool> active)
    {
        MaskRows(logits, active);
        SetEosInRows(logits, contexts, Array.Empty<int>(), 0f, active);
    }

    /// <summary>
    /// Forcing (forced BOS/EOS, docs/algorithms/constraints.md#forced-bos): in the active rows every token becomes <c>-∞</c> (MaskBelow with
    /// <c>+∞</c>) and then the ids are set to 0 (Scatter, which may revive a <c>-∞</c> token by design).
    /// </summary>
    public static void ForceInRows(LogitBatch logits, int[] ids, ReadOnlySpan<bool> active)
    {
        MaskRows(logits, active);
        SetInRows(logits, ids, 0f, active);
    }

    /// <summary>Every token of the active rows becomes <c>-∞</c> (MaskBelow with <c>+∞</c>).</summary>
    private static void MaskRows(LogitBatch logits, ReadOnlySpan<bool> active)
    {
        int rows = logits.Rows;
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                thresholds[r] = active[r] ? float.PositiveInfinity : float.NegativeInfinity;
            }

            logits.Kernels.MaskBelow(logits, thresholds.AsSpan(0, rows), logits);
        }
        finally
        {
            LogitProcessorBuffers.Return(thresholds);
        }
    }

    /// <summary>Rents a per-row flag buffer from the shared pool.</summary>
    public static bool[] RentFlags(int rows) => System.Buffers.ArrayPool<bool>.Shared.Rent(rows);

    /// <summary>Returns a buffer from <see cref="RentFlags"/>.</summary>
    public static void Return(bool[] flags) => System.Buffers.ArrayPool<bool>.Shared.Return(flags);
}

using System;
using System.Collections.Generic;
using Logits.Tensors;

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

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="maxId"/> is not below the vocabulary size (spec §1.3: on first use).</summary>
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
    /// Forcing (spec §3c, forced BOS/EOS): in the active rows every token becomes <c>-∞</c> (MaskBelow with
    /// <c>+∞</c>) and then the ids are set to 0 (Scatter, which may revive a <c>-∞</c> token by design).
    /// </summary>
    public static void ForceInRows(LogitBatch logits, int[] ids, ReadOnlySpan<bool> active)
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
            SetInRows(logits, ids, 0f, active);
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

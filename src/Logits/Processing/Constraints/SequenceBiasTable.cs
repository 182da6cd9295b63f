
namespace Logits.Processing.Constraints;

/// <summary>
/// The matcher shared by <see cref="SequenceBiasProcessor"/> and <see cref="BadWordsProcessor"/>: per row,
/// finds the entries whose prefix ends the history, accumulates their biases per token in float64 and adds
/// them with one ScatterAdd.
/// </summary>
internal sealed class SequenceBiasTable
{
    private readonly SequenceBias[] _entries;
    private readonly int _maxId;

    public SequenceBiasTable(IReadOnlyList<SequenceBias> entries)
    {
        _entries = new SequenceBias[entries.Count];
        int maxId = -1;
        for (int i = 0; i < _entries.Length; i++)
        {
            _entries[i] = entries[i];
            foreach (int id in entries[i].Tokens)
            {
                maxId = Math.Max(maxId, id);
            }
        }

        _maxId = maxId;
    }

    public int Count => _entries.Length;

    public void Apply(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, string paramName)
    {
        int n = _entries.Length;
        if (n == 0)
        {
            return;
        }

        // Every id of every sequence must exist in the vocabulary, matched or not.
        TokenIdSets.EnsureBelowVocab(_maxId, logits.Vocab, paramName);
        int rows = logits.Rows;
        var pairIds = LogitProcessorBuffers.RentInts(rows * n);
        var pairBiases = LogitProcessorBuffers.RentDoubles(rows * n);
        var counts = LogitProcessorBuffers.RentInts(rows);
        int[]? ids = null;
        float[]? values = null;
        try
        {
            int width = 0;
            for (int r = 0; r < rows; r++)
            {
                var rowIds = pairIds.AsSpan(r * n, n);
                var rowBiases = pairBiases.AsSpan(r * n, n);
                counts[r] = Collect(contexts[r].History.Span, rowIds, rowBiases);
                width = Math.Max(width, counts[r]);
            }

            if (width == 0)
            {
                return;
            }

            ids = LogitProcessorBuffers.RentInts(rows * width);
            values = LogitProcessorBuffers.RentFloats(rows * width);
            ids.AsSpan(0, rows * width).Fill(-1);
            values.AsSpan(0, rows * width).Clear();
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < counts[r]; j++)
                {
                    ids[(r * width) + j] = pairIds[(r * n) + j];

                    // The float64 sum of the matching biases is rounded once.
                    values[(r * width) + j] = (float)pairBiases[(r * n) + j];
                }
            }

            logits.Kernels.ScatterAdd(logits, ids.AsSpan(0, rows * width), values.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(pairIds);
            LogitProcessorBuffers.Return(pairBiases);
            LogitProcessorBuffers.Return(counts);
            if (ids is not null)
            {
                LogitProcessorBuffers.Return(ids);
            }

            if (values is not null)
            {
                LogitProcessorBuffers.Return(values);
            }
        }
    }

    /// <summary>Collects (token, summed bias) pairs of one row, distinct tokens, sorted by id; returns their count.</summary>
    private int Collect(ReadOnlySpan<int> history, Span<int> ids, Span<double> biases)
    {
        int count = 0;
        foreach (var entry in _entries)
        {
            var tokens = entry.Span;
            if (EndsWith(history, tokens[..^1]))
            {
                ids[count] = tokens[^1];
                biases[count] = entry.Bias;
                count++;
            }
        }

        if (count <= 1)
        {
            return count;
        }

        // Matching entries accumulate: sort by id and merge equal ids.
        ids[..count].Sort(biases[..count]);
        int merged = 0;
        for (int i = 0; i < count; i++)
        {
            if (merged > 0 && ids[merged - 1] == ids[i])
            {
                biases[merged - 1] += biases[i];
            }
            else
            {
                ids[merged] = ids[i];
                biases[merged] = biases[i];
                merged++;
            }
        }

        return merged;
    }

    /// <summary>Whether the history, with negative (padding) ids skipped, ends with <paramref name="prefix"/>.</summary>
    private static bool EndsWith(ReadOnlySpan<int> history, ReadOnlySpan<int> prefix)
    {
        int h = history.Length - 1;
        for (int j = prefix.Length - 1; j >= 0; j--)
        {
            while (h >= 0 && history[h] < 0)
            {
                h--;
            }

            if (h < 0 || history[h] != prefix[j])
            {
                return false;
            }

            h--;
        }

        return true;
    }
}

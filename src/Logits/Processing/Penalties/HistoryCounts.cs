
namespace Logits.Processing.Penalties;

/// <summary>
/// The token counts of one context's history, kept between calls: every distinct id with its count in the prompt and
/// in the output. The whole-scope penalties derive their edits from it instead of re-scanning the history per call.
/// </summary>
/// <remarks>
/// <para>The history stays the source of truth. The counts keep a copy of what they counted, and every
/// <see cref="Update"/> first compares the current history with that copy (a vectorised comparison, far cheaper than
/// the scattered count updates of a re-count). If the history only grew, and the prompt length and vocabulary are
/// unchanged, only the new tokens are counted; anything else (<see cref="SamplingContext.SetHistory"/> with other
/// contents, a shorter history, an edit in place) counts the whole history again. So the cache can never be stale,
/// whatever the caller does to the memory between calls.</para>
/// <para>Ids map to their slots through an open-addressing table sized by the distinct ids (not by the vocabulary),
/// so a batch of contexts over a large vocabulary stays small.</para>
/// <para>Not thread-safe: a context lends its counts to one call at a time (<see cref="SamplingContext.TakeCounts"/>).</para>
/// </remarks>
internal sealed class HistoryCounts
{
    private int[] _copy = new int[16];
    private int _length = -1;
    private int _promptLength;
    private int _from;
    private int _vocab;
    private int[] _ids = new int[16];
    private int[] _inPrompt = new int[16];
    private int[] _inOutput = new int[16];
    private int _distinct;

    // Open addressing with linear probing: a key is id + 1 (0 = empty), its value the id's slot.
    private int[] _keys = new int[32];
    private int[] _slots = new int[32];

    /// <summary>The number of distinct non-padding ids counted.</summary>
    public int Distinct => _distinct;

    /// <summary>The distinct ids, by slot (first occurrence first).</summary>
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, _distinct);

    /// <summary>By slot, how often the id occurs before the prompt's end.</summary>
    public ReadOnlySpan<int> InPrompt => _inPrompt.AsSpan(0, _distinct);

    /// <summary>By slot, how often the id occurs from the prompt's end on.</summary>
    public ReadOnlySpan<int> InOutput => _inOutput.AsSpan(0, _distinct);

    /// <summary>
    /// Brings the counts up to <paramref name="history"/> from position <paramref name="from"/> on (0, or the prompt's
    /// end when no penalty looks at the prompt): only the new tokens when the history extends what was counted.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A counted history id is at least <paramref name="vocab"/> (the counts are then empty).</exception>
    public void Update(ReadOnlySpan<int> history, int promptLength, int from, int vocab, int row)
    {
        int start = _length;
        if (start < 0
            || history.Length < start
            || promptLength != _promptLength
            || from != _from
            || vocab != _vocab
            || !history[..start].SequenceEqual(_copy.AsSpan(0, start)))
        {
            Clear();
            _promptLength = promptLength;
            _from = from;
            _vocab = vocab;
            start = 0;
        }

        if (history.Length > _copy.Length)
        {
            var bigger = new int[Math.Max(history.Length, _copy.Length * 2)];
            _copy.AsSpan(0, start).CopyTo(bigger);
            _copy = bigger;
        }

        // Invalid until the new tokens are counted: an id out of range throws and leaves the counts to be rebuilt.
        _length = -1;
        for (int position = Math.Max(start, from); position < history.Length; position++)
        {
            int id = history[position];
            if (id < 0)
            {
                continue;
            }

            if (id >= vocab)
            {
                Clear();
                PenaltyHistory.ThrowIdOutOfRange(id, position, row, vocab);
            }

            int slot = SlotOf(id);
            if (position < promptLength)
            {
                _inPrompt[slot]++;
            }
            else
            {
                _inOutput[slot]++;
            }
        }

        history[start..].CopyTo(_copy.AsSpan(start));
        _length = history.Length;
    }

    private void Clear()
    {
        _length = -1;
        _keys.AsSpan().Clear();
        _inPrompt.AsSpan(0, _distinct).Clear();
        _inOutput.AsSpan(0, _distinct).Clear();
        _distinct = 0;
    }

    private int SlotOf(int id)
    {
        int mask = _keys.Length - 1;
        int key = id + 1;
        int i = Hash(id) & mask;
        while (true)
        {
            int found = _keys[i];
            if (found == key)
            {
                return _slots[i];
            }

            if (found == 0)
            {
                break;
            }

            i = (i + 1) & mask;
        }

        int slot = _distinct;
        if (slot == _ids.Length)
        {
            Array.Resize(ref _ids, slot * 2);
            Array.Resize(ref _inPrompt, slot * 2);
            Array.Resize(ref _inOutput, slot * 2);
        }

        _ids[slot] = id;
        _distinct++;

        // Keep the table at most half full; growing re-inserts every listed id.
        if (_distinct * 2 > _keys.Length)
        {
            _keys = new int[_keys.Length * 2];
            _slots = new int[_keys.Length];
            for (int s = 0; s < _distinct; s++)
            {
                Insert(_ids[s], s);
            }
        }
        else
        {
            _keys[i] = key;
            _slots[i] = slot;
        }

        return slot;
    }

    private void Insert(int id, int slot)
    {
        int mask = _keys.Length - 1;
        int i = Hash(id) & mask;
        while (_keys[i] != 0)
        {
            i = (i + 1) & mask;
        }

        _keys[i] = id + 1;
        _slots[i] = slot;
    }

    /// <summary>Fibonacci hashing: consecutive ids (common in a skewed history) spread over the table.</summary>
    private static int Hash(int id) => (int)(((uint)id * 2654435769u) >> 8);
}

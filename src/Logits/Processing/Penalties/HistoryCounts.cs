using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// <para>With the counts it keeps each slot's kernel-ready edit under the rule of the last <see cref="Prepare"/> call;
/// counting a token marks its slot for recomputation, so a steady call recomputes only the slots of the appended
/// tokens (all of them after a recount or a change of rule).</para>
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

    // The kernel-ready edits by slot (id, or -1 for no edit; divisor; offset) for the rule in _rule, valid for the
    // slots below _prepared except those listed in _dirty (whose counts changed since they were computed).
    private int[] _editIds = new int[16];
    private double[] _divisors = new double[16];
    private double[] _offsets = new double[16];
    private EditRule _rule;
    private int _prepared;
    private int[] _dirty = new int[16];
    private int _dirtyCount;

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
            || !SameTokens(history[..start], _copy.AsSpan(0, start)))
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
            MarkDirty(slot);
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

    /// <summary>
    /// The penalty edits of the counted ids under <paramref name="rule"/>, ready for
    /// <see cref="Tensors.ILogitKernels.PenalizeTokens"/>: by slot, the id (or <c>-1</c> when neither penalty acts on
    /// it), its divisor and its offset. Only the slots whose counts changed since the last call with the same rule are
    /// computed again (call after <see cref="Update"/>; the spans are valid until the next call on these counts).
    /// </summary>
    public PreparedEdits Prepare(EditRule rule)
    {
        if (!rule.SameAs(_rule))
        {
            _rule = rule;
            _prepared = 0;
            _dirtyCount = 0;
        }

        if (_editIds.Length < _ids.Length)
        {
            Array.Resize(ref _editIds, _ids.Length);
            Array.Resize(ref _divisors, _ids.Length);
            Array.Resize(ref _offsets, _ids.Length);
        }

        for (int i = 0; i < _dirtyCount; i++)
        {
            int slot = _dirty[i];
            if (slot < _prepared)
            {
                PrepareSlot(slot, rule);
            }
        }

        _dirtyCount = 0;
        for (int slot = _prepared; slot < _distinct; slot++)
        {
            PrepareSlot(slot, rule);
        }

        _prepared = _distinct;
        return new PreparedEdits(_editIds.AsSpan(0, _distinct), _divisors.AsSpan(0, _distinct), _offsets.AsSpan(0, _distinct));
    }

    /// <summary>The edits of the last <see cref="Prepare"/> call, as they are.</summary>
    public PreparedEdits Prepared => new(_editIds.AsSpan(0, _prepared), _divisors.AsSpan(0, _prepared), _offsets.AsSpan(0, _prepared));

    private void PrepareSlot(int slot, in EditRule rule)
    {
        // The same arithmetic as the window scan's edits: θ or 1, then c·α_f + α_p or 0.
        int repetitionCount = (rule.RepetitionPromptWeight * _inPrompt[slot]) + _inOutput[slot];
        int count = rule.FrequencyPresence ? (rule.FrequencyPromptWeight * _inPrompt[slot]) + _inOutput[slot] : 0;
        bool repeated = rule.Repetition && repetitionCount > 0;
        _editIds[slot] = repeated || count > 0 ? _ids[slot] : -1;
        _divisors[slot] = repeated ? rule.Theta : 1.0;
        _offsets[slot] = count > 0 ? (count * rule.Frequency) + rule.Presence : 0.0;
    }

    private void MarkDirty(int slot)
    {
        // Slots not yet prepared are computed anyway; a slot may be listed more than once (recomputing is idempotent).
        if (slot >= _prepared)
        {
            return;
        }

        if (_dirtyCount == _dirty.Length)
        {
            Array.Resize(ref _dirty, _dirty.Length * 2);
        }

        _dirty[_dirtyCount++] = slot;
    }

    /// <summary>
    /// Whether both spans of equal length hold the same ids: <see cref="MemoryExtensions.SequenceEqual{T}(ReadOnlySpan{T}, ReadOnlySpan{T})"/>,
    /// but four 256-bit vectors per step with one test (the library's precompiled comparison used 128-bit vectors and
    /// took a third of a steady call at V = 512 with a 4096-token history).
    /// </summary>
    private static bool SameTokens(ReadOnlySpan<int> history, ReadOnlySpan<int> copy)
    {
        int length = history.Length;
        int i = 0;
        if (Vector256.IsHardwareAccelerated && length >= 4 * Vector256<int>.Count)
        {
            ref int a = ref MemoryMarshal.GetReference(history);
            ref int b = ref MemoryMarshal.GetReference(copy);
            for (; i <= length - (4 * Vector256<int>.Count); i += 4 * Vector256<int>.Count)
            {
                var difference = (Vector256.LoadUnsafe(ref a, (nuint)i) ^ Vector256.LoadUnsafe(ref b, (nuint)i))
                    | (Vector256.LoadUnsafe(ref a, (nuint)(i + 8)) ^ Vector256.LoadUnsafe(ref b, (nuint)(i + 8)))
                    | (Vector256.LoadUnsafe(ref a, (nuint)(i + 16)) ^ Vector256.LoadUnsafe(ref b, (nuint)(i + 16)))
                    | (Vector256.LoadUnsafe(ref a, (nuint)(i + 24)) ^ Vector256.LoadUnsafe(ref b, (nuint)(i + 24)));
                if (difference != Vector256<int>.Zero)
                {
                    return false;
                }
            }
        }

        return history[i..].SequenceEqual(copy[i..]);
    }

    private void Clear()
    {
        _length = -1;
        _prepared = 0;
        _dirtyCount = 0;
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

/// <summary>
/// What the whole-scope penalties do with one row's counts: which penalties act, whether each covers the prompt
/// (weight 1) or not (0), and their parameters.
/// </summary>
internal readonly record struct EditRule(
    bool Repetition,
    int RepetitionPromptWeight,
    double Theta,
    bool FrequencyPresence,
    int FrequencyPromptWeight,
    double Frequency,
    double Presence)
{
    /// <summary>Whether both rules give the same edits, bit for bit (parameters compared by their bits, so -0 ≠ 0).</summary>
    public bool SameAs(in EditRule other) =>
        Repetition == other.Repetition
        && RepetitionPromptWeight == other.RepetitionPromptWeight
        && FrequencyPresence == other.FrequencyPresence
        && FrequencyPromptWeight == other.FrequencyPromptWeight
        && BitConverter.DoubleToInt64Bits(Theta) == BitConverter.DoubleToInt64Bits(other.Theta)
        && BitConverter.DoubleToInt64Bits(Frequency) == BitConverter.DoubleToInt64Bits(other.Frequency)
        && BitConverter.DoubleToInt64Bits(Presence) == BitConverter.DoubleToInt64Bits(other.Presence);
}

/// <summary>A row's edits by slot, ready for the PenalizeTokens kernel (ids of <c>-1</c> are padding).</summary>
internal readonly ref struct PreparedEdits(ReadOnlySpan<int> ids, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets)
{
    /// <summary>The edited ids, <c>-1</c> where no penalty acts.</summary>
    public ReadOnlySpan<int> Ids { get; } = ids;

    /// <summary>The divisors (θ, or 1).</summary>
    public ReadOnlySpan<double> Divisors { get; } = divisors;

    /// <summary>The offsets (<c>c·α_f + α_p</c>, or 0).</summary>
    public ReadOnlySpan<double> Offsets { get; } = offsets;
}

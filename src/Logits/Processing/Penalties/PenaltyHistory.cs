
namespace Logits.Processing.Penalties;

/// <summary>Reads the part of a row's history a penalty looks at, with padding removed and ids checked.</summary>
internal static class PenaltyHistory
{
    /// <summary>The whole scope (no window).</summary>
    public const int WholeScope = -1;

    /// <summary>The length of the longest history among <paramref name="contexts"/> (0 when every history is empty).</summary>
    public static int Longest(IReadOnlyList<SamplingContext> contexts)
    {
        int longest = 0;
        for (int r = 0; r < contexts.Count; r++)
        {
            longest = Math.Max(longest, contexts[r].History.Length);
        }

        return longest;
    }

    /// <summary>Throws unless <paramref name="window"/> is <c>-1</c> (whole scope) or at least 1.</summary>
    public static int ValidateWindow(int window, string paramName)
    {
        if (window == 0 || window < WholeScope)
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, window, "must be -1 (the whole scope) or at least 1 (the last N tokens)");
        }

        return window;
    }

    /// <summary>Throws unless <paramref name="scope"/> is a defined value.</summary>
    public static PenaltyScope ValidateScope(PenaltyScope scope, string paramName)
    {
        if (scope is not (PenaltyScope.PromptAndOutput or PenaltyScope.OutputOnly))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, scope, "must be PromptAndOutput or OutputOnly");
        }

        return scope;
    }

    /// <summary>The first history position of <paramref name="scope"/>.</summary>
    public static int ScopeStart(SamplingContext context, PenaltyScope scope) =>
        scope == PenaltyScope.OutputOnly ? context.PromptLength : 0;

    /// <summary>
    /// The history position where the window starts: the scope's last <paramref name="window"/> non-padding
    /// tokens (library decision: padding neither counts nor occupies a window slot), or the scope's start.
    /// </summary>
    public static int WindowStart(ReadOnlySpan<int> history, int scopeStart, int window)
    {
        if (window == WholeScope)
        {
            return scopeStart;
        }

        int taken = 0;
        int position = history.Length;
        while (position > scopeStart && taken < window)
        {
            position--;
            if (history[position] >= 0)
            {
                taken++;
            }
        }

        return position;
    }

    /// <summary>Throws the documented error for a history id at or above the vocabulary size.</summary>
    public static void ThrowIdOutOfRange(int id, int position, int row, int vocab) =>
        ThrowHelper.ThrowArgumentOutOfRange(
            "contexts",
            id,
            $"holds a history id that must be below the vocabulary size {vocab} (row {row}, history position {position}; negative ids are padding)");

    /// <summary>
    /// Copies the non-padding ids of <c>history[start..]</c> into <paramref name="destination"/>, in order,
    /// checking each against <paramref name="vocab"/>.
    /// </summary>
    /// <returns>The number of ids copied.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is at least <paramref name="vocab"/>.</exception>
    public static int CopyIds(ReadOnlySpan<int> history, int start, int vocab, int row, Span<int> destination)
    {
        int count = 0;
        for (int position = start; position < history.Length; position++)
        {
            int id = history[position];
            if (id < 0)
            {
                continue;
            }

            if (id >= vocab)
            {
                ThrowIdOutOfRange(id, position, row, vocab);
            }

            destination[count++] = id;
        }

        return count;
    }
}

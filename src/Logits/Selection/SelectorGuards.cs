using Logits.Processing;
using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Argument checks and per-row random streams shared by the selectors.</summary>
internal static class SelectorGuards
{
    public static void Validate(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(contexts);
        if (contexts.Count != logits.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(contexts), $"has {contexts.Count} contexts but the batch has {logits.Rows} rows.");
        }

        if (destination.Length < logits.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but the batch has {logits.Rows} rows.");
        }
    }

    /// <summary>Grows <paramref name="streams"/> so row <c>r</c> has the stream seeded <c>seed + r</c>.</summary>
    public static void EnsureStreams(ref Xoshiro256StarStar[] streams, ulong seed, int rows)
    {
        if (streams.Length >= rows)
        {
            return;
        }

        int start = streams.Length;
        Array.Resize(ref streams, rows);
        for (int r = start; r < rows; r++)
        {
            streams[r] = Xoshiro256StarStar.ForRow(seed, r);
        }
    }

    /// <summary>Deep copies of the streams.</summary>
    public static Xoshiro256StarStar[] CloneStreams(Xoshiro256StarStar[] streams)
    {
        var copy = new Xoshiro256StarStar[streams.Length];
        for (int r = 0; r < streams.Length; r++)
        {
            copy[r] = (Xoshiro256StarStar)streams[r].Clone();
        }

        return copy;
    }
}

using System;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>The fixed-seed logits every peer of every case reads: the same input, bit for bit, in every run.</summary>
/// <remarks>
/// Each row is <c>N(0, 2.5²)</c> noise (the spread of a language model's tail) plus
/// <see cref="PeakCount"/> peaked tokens at <c>12 + 4u</c> (<c>u</c> uniform) on random ids, so a few tokens hold most
/// of the mass, as after a confident model step. With this spread the top-p 0.9 nucleus is the peaks alone at
/// <c>V ≤ 151936</c> and reaches into the tail at 262144 (the tail's mass grows with <c>V</c>), so both situations
/// are measured.
/// </remarks>
public static class LogitInput
{
    /// <summary>The seed of every row (row <c>r</c> uses <c>Seed + r</c>).</summary>
    public const int Seed = 20260101;

    /// <summary>How many peaked tokens each row has.</summary>
    public const int PeakCount = 20;

    /// <summary>Creates <paramref name="rows"/> rows of <paramref name="vocab"/> logits, row-major.</summary>
    public static float[] Create(int rows, int vocab)
    {
        var logits = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            Fill(logits.AsSpan(r * vocab, vocab), Seed + r);
        }

        return logits;
    }

    private static void Fill(Span<float> row, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < row.Length; i++)
        {
            // Box–Muller; 1 − NextDouble() is in (0, 1], so the logarithm is finite.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            row[i] = (float)(2.5 * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        for (int p = 0; p < PeakCount; p++)
        {
            row[random.Next(row.Length)] = (float)(12.0 + (4.0 * random.NextDouble()));
        }
    }

    /// <summary>
    /// A 4096-token history for the penalty case: ids drawn with a Zipf-like skew (<c>id = ⌊V·u³⌋</c>) so many tokens
    /// repeat, as in real text; fixed seed.
    /// </summary>
    public static int[] History(int vocab, int length = 4096)
    {
        var random = new Random(Seed ^ 0x5EED);
        var history = new int[length];
        for (int i = 0; i < length; i++)
        {
            double u = random.NextDouble();
            history[i] = Math.Min(vocab - 1, (int)(vocab * u * u * u));
        }

        return history;
    }
}

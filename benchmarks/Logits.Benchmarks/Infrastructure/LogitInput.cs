using System;

namespace Logits.Benchmarks.Infrastructure;

/// <summary>The kinds of logit rows the cases are measured on (<see cref="LogitInput"/>).</summary>
public enum LogitDistribution
{
    /// <summary><c>N(0, 2.5²)</c> noise plus <see cref="LogitInput.PeakCount"/> peaked tokens at <c>12 + 4u</c>: a confident
    /// model step, where top-p 0.9 keeps the peaks alone up to V = 151936.</summary>
    Peaked,

    /// <summary><c>N(0, 1)</c>: a flat, high-entropy row (nuclei of most of the vocabulary).</summary>
    Gaussian1,

    /// <summary><c>N(0, 3²)</c>: a spread row whose nucleus is a large minority of the vocabulary.</summary>
    Gaussian3,

    /// <summary>A Zipf-like tail: <c>-1.1 ln(rank)</c> over randomly permuted ranks plus <c>N(0, 0.3²)</c> noise, as the
    /// sorted logits of language models fall off.</summary>
    Zipf,
}

/// <summary>The fixed-seed logits every peer of every case reads: the same input, bit for bit, in every run.</summary>
/// <remarks>
/// <para>Rows come from one of the <see cref="LogitDistribution"/> kinds, each row from its own seed.</para>
/// <para>A case holds <see cref="RotationLength"/> distinct inputs and moves to the next one on every call, as
/// real decode steps see a new row each time: one replayed row stays in the caches and flatters every peer (a
/// top-p call on σ = 3 rows at V = 4096 cost 24 µs on one replayed row and 87-92 µs on 16-256 rows).</para>
/// </remarks>
public static class LogitInput
{
    /// <summary>The seed of every row (row <c>r</c> uses <c>Seed + r</c>).</summary>
    public const int Seed = 20260101;

    /// <summary>How many peaked tokens each row of <see cref="LogitDistribution.Peaked"/> has.</summary>
    public const int PeakCount = 20;

    /// <summary>The bytes of input a case rotates through (when the rows are smaller than this; at most 64 inputs).</summary>
    public const int RotationBytes = 8 << 20;

    /// <summary>How many distinct inputs of <paramref name="rows"/> × <paramref name="vocab"/> floats a case rotates
    /// through: about <see cref="RotationBytes"/> of them, 1 to 64 (64 up to V = 32000, 16 at 128256, 8 at 262144).</summary>
    public static int RotationLength(int rows, int vocab) => (int)Math.Clamp(RotationBytes / (4L * rows * vocab), 1, 64);

    /// <summary>Creates <paramref name="rows"/> rows of <paramref name="vocab"/> logits, row-major.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="vocab">Logits per row.</param>
    /// <param name="distribution">The kind of row.</param>
    /// <param name="firstRow">The index of the first row in the fixed sequence of rows (its seed is <c>Seed + firstRow</c>).</param>
    public static float[] Create(int rows, int vocab, LogitDistribution distribution = LogitDistribution.Peaked, int firstRow = 0)
    {
        var logits = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            Fill(logits.AsSpan(r * vocab, vocab), distribution, Seed + firstRow + r);
        }

        return logits;
    }

    private static void Fill(Span<float> row, LogitDistribution distribution, int seed)
    {
        var random = new Random(seed);
        switch (distribution)
        {
            case LogitDistribution.Peaked:
                Gaussian(row, random, 2.5);
                for (int p = 0; p < PeakCount; p++)
                {
                    row[random.Next(row.Length)] = (float)(12.0 + (4.0 * random.NextDouble()));
                }

                break;
            case LogitDistribution.Gaussian1:
                Gaussian(row, random, 1.0);
                break;
            case LogitDistribution.Gaussian3:
                Gaussian(row, random, 3.0);
                break;
            case LogitDistribution.Zipf:
                var ranks = new int[row.Length];
                for (int i = 0; i < ranks.Length; i++)
                {
                    ranks[i] = i + 1;
                }

                random.Shuffle(ranks);
                Gaussian(row, random, 0.3);
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] += (float)(-1.1 * Math.Log(ranks[i]));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "unknown distribution");
        }
    }

    private static void Gaussian(Span<float> row, Random random, double sigma)
    {
        for (int i = 0; i < row.Length; i++)
        {
            // Box–Muller; 1 − NextDouble() is in (0, 1], so the logarithm is finite.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            row[i] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
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

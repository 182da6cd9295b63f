using System;
using System.Collections.Generic;

namespace Logits.Tests.Infrastructure;

/// <summary>The shapes and random logit rows every kernel is tested on.</summary>
public static class LogitData
{
    /// <summary>Vocabulary sizes: every size 1..67, the vector-width edges, and real vocabularies.</summary>
    public static IReadOnlyList<int> Vocabs { get; } = BuildVocabs();

    /// <summary>Row counts: 1..5 and 64.</summary>
    public static IReadOnlyList<int> RowCounts { get; } = new[] { 1, 2, 3, 4, 5, 64 };

    /// <summary>Real vocabulary sizes (Llama-2, Llama-3, Qwen2, Gemma-3).</summary>
    public static IReadOnlyList<int> RealVocabs { get; } = new[] { 32000, 128256, 151936, 262144 };

    /// <summary>
    /// Every vocabulary size paired with a row count. Small vocabularies run with every row count; the
    /// real ones take 1 and 3 rows, and V = 128256 also 64 rows (the parallel path and row blocks: every row of
    /// 128256 floats or more is a block of its own, so 64 × 262144 would run the same code at twice the cost; it took
    /// about half of the CPU kernel tests' time).
    /// </summary>
    public static IEnumerable<(int Rows, int Vocab)> Shapes()
    {
        foreach (int vocab in Vocabs)
        {
            if (vocab >= 32000)
            {
                yield return (1, vocab);
                yield return (3, vocab);
                if (vocab == 128256)
                {
                    yield return (64, vocab);
                }
            }
            else
            {
                foreach (int rows in RowCounts)
                {
                    yield return (rows, vocab);
                }
            }
        }
    }

    /// <summary>
    /// Random row-major logits of a shape with a rotating "style" per row: realistic spread (N(0, 2.5²)
    /// plus a few peaks), huge ranges (up to ±1e4), <c>-∞</c> entries, heavy ties, a single finite entry.
    /// No row is all <c>-∞</c>.
    /// </summary>
    public static float[] Random(int rows, int vocab, int seed)
    {
        var rng = new Random(seed);
        var data = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            var row = data.AsSpan(r * vocab, vocab);
            int style = (r + seed) % 6;
            for (int i = 0; i < vocab; i++)
            {
                row[i] = style switch
                {
                    0 => (float)(Normal(rng) * 2.5),
                    1 => (float)((rng.NextDouble() * 2 - 1) * 1e4),
                    2 => rng.NextDouble() < 0.3 ? float.NegativeInfinity : (float)(Normal(rng) * 3),
                    3 => rng.Next(4) * 0.5f,
                    4 => (float)(Normal(rng) * 20 + 100),
                    _ => float.NegativeInfinity,
                };
            }

            if (style == 0)
            {
                for (int peak = 0; peak < Math.Min(20, vocab / 100); peak++)
                {
                    row[rng.Next(vocab)] = (float)(8 + rng.NextDouble() * 4);
                }
            }

            // Every row keeps at least one finite entry; style 5 keeps exactly one.
            if (style == 5 || float.IsNegativeInfinity(Max(row)))
            {
                row[rng.Next(vocab)] = (float)Normal(rng);
            }
        }

        return data;
    }

    /// <summary>Copies one row out of row-major data.</summary>
    public static float[] Row(float[] data, int vocab, int row) => data.AsSpan(row * vocab, vocab).ToArray();

    private static float Max(Span<float> row)
    {
        float m = float.NegativeInfinity;
        foreach (float v in row)
        {
            m = Math.Max(m, v);
        }

        return m;
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static List<int> BuildVocabs()
    {
        var vocabs = new List<int>();
        for (int v = 1; v <= 67; v++)
        {
            vocabs.Add(v);
        }

        vocabs.AddRange(new[] { 127, 128, 129, 4095, 4096, 4097, 32000, 128256, 151936, 262144 });
        return vocabs;
    }
}

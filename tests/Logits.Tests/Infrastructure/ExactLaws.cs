using System;
using System.Collections.Generic;

namespace Logits.Tests.Infrastructure;

/// <summary>Predicted output laws of the samplers on the exact oracle, computed independently of the sampler code.</summary>
public static class ExactLaws
{
    private const int Mask = 3;

    /// <summary>q_n of RADD with n log-linear steps, δ = 0 (dynamic program, rates r_k = 1/(n − k)).</summary>
    public static double[] Radd(MarkovChainOracle oracle, int steps)
    {
        int length = oracle.Length;
        var states = new Dictionary<long, double> { [Key(Full(length))] = 1.0 };
        for (int k = 0; k < steps; k++)
        {
            double r = 1.0 / (steps - k);
            var next = new Dictionary<long, double>();
            foreach (var (key, w) in states)
            {
                int[] x = Unkey(key, length);
                double[] c = oracle.Conditionals(x);
                Expand(x, 0, w, r, c, next);
            }

            states = next;
        }

        return ToLaw(states, length);
    }

    // Each masked position independently stays (1 - r) or becomes y (r c(y|x)); c is the conditional at the step's start.
    private static void Expand(int[] x, int position, double w, double r, double[] c, Dictionary<long, double> next)
    {
        if (w == 0)
        {
            return;
        }

        if (position == x.Length)
        {
            long key = Key(x);
            next[key] = next.GetValueOrDefault(key) + w;
            return;
        }

        if (x[position] != Mask)
        {
            Expand(x, position + 1, w, r, c, next);
            return;
        }

        Expand(x, position + 1, w * (1 - r), r, c, next);
        for (int y = 0; y < 3; y++)
        {
            x[position] = y;
            Expand(x, position + 1, w * r * c[(position * 3) + y], r, c, next);
        }

        x[position] = Mask;
    }

    /// <summary>
    /// LLaDA low-confidence remasking with T = 1 on one block of the oracle: each masked position proposes y ~ c(· | x)
    /// independently, its confidence is the float64 softmax of the oracle's float32 row at y, and the quota's
    /// highest-confidence positions (ties to the lower index) are revealed.
    /// </summary>
    public static double[] LladaLowConfidence(MarkovChainOracle oracle, int[] quotas)
    {
        int length = oracle.Length;
        var states = new Dictionary<long, double> { [Key(Full(length))] = 1.0 };
        foreach (int quota in quotas)
        {
            var next = new Dictionary<long, double>();
            foreach (var (key, w) in states)
            {
                int[] x = Unkey(key, length);
                var masked = new List<int>();
                for (int i = 0; i < length; i++)
                {
                    if (x[i] == Mask)
                    {
                        masked.Add(i);
                    }
                }

                var probs = new double[length][];
                foreach (int i in masked)
                {
                    probs[i] = Softmax(oracle.Row(x, i));
                }

                int combos = (int)Math.Pow(3, masked.Count);
                var proposal = new int[masked.Count];
                for (int c = 0; c < combos; c++)
                {
                    int code = c;
                    double weight = w;
                    for (int j = 0; j < masked.Count; j++)
                    {
                        proposal[j] = code % 3;
                        code /= 3;
                        weight *= probs[masked[j]][proposal[j]];
                    }

                    // Select the quota's highest confidences, ties to the lower position.
                    var order = new List<int>();
                    for (int j = 0; j < masked.Count; j++)
                    {
                        order.Add(j);
                    }

                    order.Sort((a, b) =>
                    {
                        double ca = probs[masked[a]][proposal[a]], cb = probs[masked[b]][proposal[b]];
                        return ca != cb ? cb.CompareTo(ca) : masked[a].CompareTo(masked[b]);
                    });
                    var y = (int[])x.Clone();
                    for (int q = 0; q < Math.Min(quota, order.Count); q++)
                    {
                        y[masked[order[q]]] = proposal[order[q]];
                    }

                    long k = Key(y);
                    next[k] = next.GetValueOrDefault(k) + weight;
                }
            }

            states = next;
        }

        return ToLaw(states, length);
    }

    /// <summary>Float64 max-shifted softmax of a float32 row over its first three (real-token) columns.</summary>
    public static double[] Softmax(float[] row)
    {
        double max = double.NegativeInfinity;
        for (int y = 0; y < 3; y++)
        {
            max = Math.Max(max, row[y]);
        }

        var p = new double[3];
        double z = 0;
        for (int y = 0; y < 3; y++)
        {
            p[y] = Math.Exp(row[y] - max);
            z += p[y];
        }

        for (int y = 0; y < 3; y++)
        {
            p[y] /= z;
        }

        return p;
    }

    /// <summary>
    /// A TV bound for an exact sampler: the expected empirical TV of <paramref name="draws"/> draws from the law itself,
    /// <c>½ Σ √(2 p(1 − p)/(π M))</c>, plus 0.004 (several standard deviations of that TV). The fixed "TV &lt; 0.01" first planned
    /// is below the pure sampling noise of the product variant at M = 10⁵ (expected 0.0105), so it would fail an
    /// exact sampler about half the time; this bound keeps the check's intent (a wrong law such as q_8, TV 0.065, fails).
    /// </summary>
    public static double TvNoiseThreshold(IReadOnlyList<double> law, int draws)
    {
        double sum = 0;
        foreach (double p in law)
        {
            sum += Math.Sqrt(2 * p * (1 - p) / (Math.PI * draws));
        }

        return (sum / 2) + 0.004;
    }

    public static double TotalVariation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double tv = 0;
        for (int i = 0; i < a.Count; i++)
        {
            tv += Math.Abs(a[i] - b[i]);
        }

        return tv / 2;
    }

    public static long[] Counts(int[] tokens, int length)
    {
        var counts = new long[(int)Math.Pow(3, length)];
        for (int s = 0; s < tokens.Length / length; s++)
        {
            counts[MarkovChainOracle.Encode(tokens.AsSpan(s * length, length))]++;
        }

        return counts;
    }

    private static int[] Full(int length)
    {
        var x = new int[length];
        Array.Fill(x, Mask);
        return x;
    }

    private static long Key(int[] x)
    {
        long key = 0;
        foreach (int t in x)
        {
            key = (key * 4) + t;
        }

        return key;
    }

    private static int[] Unkey(long key, int length)
    {
        var x = new int[length];
        for (int i = length - 1; i >= 0; i--)
        {
            x[i] = (int)(key % 4);
            key /= 4;
        }

        return x;
    }

    private static double[] ToLaw(Dictionary<long, double> states, int length)
    {
        var law = new double[(int)Math.Pow(3, length)];
        foreach (var (key, w) in states)
        {
            int[] x = Unkey(key, length);
            if (Array.IndexOf(x, Mask) >= 0)
            {
                throw new InvalidOperationException("A state still holds a mask after the last step.");
            }

            law[MarkovChainOracle.Encode(x)] += w;
        }

        return law;
    }
}

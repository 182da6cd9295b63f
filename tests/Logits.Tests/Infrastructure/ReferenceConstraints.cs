using System;
using System.Collections.Generic;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references of the biasing, constraint and guidance processors
/// (docs/algorithms/constraints.md, docs/algorithms/guidance.md), one row at a time. Every reference passes an all -inf row through unchanged,
/// as the processors' base class does.
/// </summary>
public static class ReferenceConstraints
{
    private static bool IsEmpty(float[] row) => row.All(float.IsNegativeInfinity);

    private static double[] Copy(float[] row) => row.Select(v => (double)v).ToArray();

    public static double[] LogitBias(float[] row, IReadOnlyDictionary<int, double> bias)
    {
        var result = Copy(row);
        if (IsEmpty(row))
        {
            return result;
        }

        foreach (var (id, b) in bias)
        {
            result[id] += b;
        }

        return result;
    }

    /// <summary>The history with padding (negative ids) removed.</summary>
    private static int[] Unpadded(int[] history) => history.Where(t => t >= 0).ToArray();

    public static double[] SequenceBias(float[] row, int[] history, IReadOnlyList<(int[] Sequence, float Bias)> entries)
    {
        var result = Copy(row);
        if (IsEmpty(row))
        {
            return result;
        }

        var h = Unpadded(history);
        var added = new double[row.Length];
        foreach (var (sequence, bias) in entries)
        {
            int prefix = sequence.Length - 1;
            bool matches = h.Length >= prefix && h.Skip(h.Length - prefix).SequenceEqual(sequence.Take(prefix));
            if (matches)
            {
                added[sequence[^1]] += bias;
            }
        }

        for (int i = 0; i < row.Length; i++)
        {
            result[i] += added[i];
        }

        return result;
    }

    public static double[] BadWords(float[] row, int[] history, IReadOnlyList<int[]> sequences, IReadOnlyCollection<int> eos)
    {
        var kept = sequences.Where(s => !(s.Length == 1 && eos.Contains(s[0]))).Select(s => (s, float.NegativeInfinity)).ToList();
        return SequenceBias(row, history, kept);
    }

    public static double[] Allowed(float[] row, IEnumerable<int> allowed)
    {
        if (IsEmpty(row))
        {
            return Copy(row);
        }

        var set = new HashSet<int>(allowed);
        return row.Select((v, i) => set.Contains(i) ? v : double.NegativeInfinity).ToArray();
    }

    public static double[] Ban(float[] row, bool active, IEnumerable<int> banned)
    {
        var result = Copy(row);
        if (!active || IsEmpty(row))
        {
            return result;
        }

        foreach (int id in banned)
        {
            result[id] = double.NegativeInfinity;
        }

        return result;
    }

    public static double[] MinLength(float[] row, int historyLength, int minLength, IEnumerable<int> banned) =>
        Ban(row, historyLength < minLength, banned);

    public static double[] MinNewTokens(float[] row, int generated, int minNewTokens, IEnumerable<int> banned) =>
        Ban(row, generated < minNewTokens, banned);

    public static double[] Force(float[] row, bool active, IEnumerable<int> forced)
    {
        if (!active || IsEmpty(row))
        {
            return Copy(row);
        }

        var result = Enumerable.Repeat(double.NegativeInfinity, row.Length).ToArray();
        foreach (int id in forced)
        {
            result[id] = 0;
        }

        return result;
    }

    public static double[] ExponentialDecay(float[] row, int generated, int startIndex, double decayFactor, IEnumerable<int> eos)
    {
        var result = Copy(row);
        int k = generated - startIndex;
        if (k <= 0 || IsEmpty(row))
        {
            return result;
        }

        foreach (int id in eos.Distinct())
        {
            double z = row[id];
            if (double.IsNegativeInfinity(z) || z == 0)
            {
                continue;
            }

            double boosted = z + (Math.Abs(z) * (Math.Pow(decayFactor, k) - 1));
            result[id] = Math.Min(boosted, float.MaxValue);
        }

        return result;
    }

    public static double[] LogSoftmax(float[] row)
    {
        if (IsEmpty(row))
        {
            return Copy(row);
        }

        double m = row.Max(v => (double)v);
        double s = row.Sum(v => Math.Exp(v - m));
        double lse = m + Math.Log(s);
        return row.Select(v => float.IsNegativeInfinity(v) ? double.NegativeInfinity : v - lse).ToArray();
    }

    /// <summary>CFG: u + s·(c − u), c = −∞ ⇒ −∞, u = −∞ ⇒ c.</summary>
    public static double[] Cfg(float[] row, float[] unconditional, double scale)
    {
        if (IsEmpty(row))
        {
            return Copy(row);
        }

        var c = LogSoftmax(row);
        if (scale == 1)
        {
            return c;
        }

        var u = LogSoftmax(unconditional);
        var result = new double[row.Length];
        for (int i = 0; i < row.Length; i++)
        {
            result[i] = double.IsNegativeInfinity(c[i]) ? double.NegativeInfinity
                : double.IsNegativeInfinity(u[i]) ? c[i]
                : u[i] + (scale * (c[i] - u[i]));
        }

        return result;
    }
}

using System;
using System.Collections.Generic;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references of the penalty processors (docs/algorithms/penalties.md):
/// plain loops and LINQ over one row and its history, no sorting tricks, no Z-function.
/// </summary>
public static class ReferencePenalties
{
    /// <summary>
    /// The ids a penalty reads: the scope (whole history, or from <paramref name="promptLength"/> on), padding
    /// (negative ids) removed, then the last <paramref name="window"/> ids (<c>-1</c> = all).
    /// Throws <see cref="ArgumentOutOfRangeException"/> for an id ≥ <paramref name="vocab"/> in that window.
    /// </summary>
    public static int[] Window(int[] history, int promptLength, bool outputOnly, int window, int vocab)
    {
        var scoped = history.Skip(outputOnly ? promptLength : 0).Where(id => id >= 0).ToArray();
        var result = window < 0 ? scoped : scoped.Skip(Math.Max(0, scoped.Length - window)).ToArray();
        if (result.Any(id => id >= vocab))
        {
            throw new ArgumentOutOfRangeException(nameof(history), "holds an id at or above the vocabulary size.");
        }

        return result;
    }

    /// <summary>Stable log-softmax in double (−∞ stays −∞).</summary>
    public static double[] LogSoftmax(double[] row)
    {
        double m = row.Max();
        double s = row.Sum(z => Math.Exp(z - m));
        return row.Select(z => double.IsNegativeInfinity(z) ? double.NegativeInfinity : z - m - Math.Log(s)).ToArray();
    }

    /// <summary>Repetition penalty: each distinct token of the window once; z &gt; 0 → z/θ, else z·θ.</summary>
    public static double[] Repetition(double[] row, int[] window, double theta, bool normalizeFirst = false)
    {
        var result = normalizeFirst && row.Any(z => !double.IsNegativeInfinity(z)) ? LogSoftmax(row) : (double[])row.Clone();
        foreach (int t in window.Distinct())
        {
            result[t] = result[t] > 0 ? result[t] / theta : result[t] * theta;
        }

        return result;
    }

    /// <summary>Frequency/presence: z_t −= c_t·α_f + [c_t &gt; 0]·α_p.</summary>
    public static double[] FrequencyPresence(double[] row, int[] window, double frequency, double presence)
    {
        var result = (double[])row.Clone();
        foreach (var group in window.GroupBy(t => t))
        {
            result[group.Key] -= (group.Count() * frequency) + presence;
        }

        return result;
    }

    /// <summary>
    /// DRY match lengths by the definition, O(n²): for every j &lt; n with h_j = h_n and h_{j+1} not a breaker,
    /// extend the common suffix while no compared token is a breaker and j − L + 1 ≥ 1; keep the maximum per
    /// following token.
    /// </summary>
    public static Dictionary<int, int> DryLengths(int[] h, ISet<int> breakers)
    {
        var lengths = new Dictionary<int, int>();
        int n = h.Length;
        if (n < 2 || breakers.Contains(h[n - 1]))
        {
            return lengths;
        }

        // 0-based: j in [0, n - 2], compare h[j - r] with h[n - 1 - r].
        for (int j = 0; j < n - 1; j++)
        {
            if (h[j] != h[n - 1])
            {
                continue;
            }

            int t = h[j + 1];
            if (breakers.Contains(t))
            {
                continue;
            }

            int length = 0;
            while (j - length >= 0 && h[j - length] == h[n - 1 - length] && !breakers.Contains(h[j - length]) && !breakers.Contains(h[n - 1 - length]))
            {
                length++;
            }

            if (length >= 1)
            {
                lengths[t] = Math.Max(lengths.GetValueOrDefault(t), length);
            }
        }

        return lengths;
    }

    /// <summary>The exponent cap ⌊88.72 / ln Base⌋ (none when Base = 1).</summary>
    public static double DryExponentCap(double @base) => @base > 1 ? Math.Floor(88.72 / Math.Log(@base)) : double.PositiveInfinity;

    /// <summary>DRY: z_t −= Multiplier·Base^min(L_t − AllowedLength, cap) for L_t ≥ AllowedLength; below −float.MaxValue → −∞.</summary>
    public static double[] Dry(double[] row, int[] window, double multiplier, double @base, int allowedLength, ISet<int> breakers)
    {
        var result = (double[])row.Clone();
        if (multiplier == 0)
        {
            return result;
        }

        foreach (var (t, length) in DryLengths(window, breakers))
        {
            if (length >= allowedLength)
            {
                double exponent = Math.Min(length - allowedLength, DryExponentCap(@base));
                result[t] = Ban(result[t] - (multiplier * Math.Pow(@base, exponent)));
            }
        }

        return result;
    }

    /// <summary>No-repeat n-gram bans (HF): every token that followed an earlier occurrence of the last N − 1 tokens.</summary>
    public static SortedSet<int> NoRepeatNGramBans(int[] h, int n)
    {
        var bans = new SortedSet<int>();
        if (h.Length + 1 < n)
        {
            return bans;
        }

        // Every complete n-gram of the history, as HF builds its dictionary.
        var prefix = h.Skip(h.Length - (n - 1)).ToArray();
        for (int start = 0; start + n <= h.Length; start++)
        {
            if (h.Skip(start).Take(n - 1).SequenceEqual(prefix))
            {
                bans.Add(h[start + n - 1]);
            }
        }

        return bans;
    }

    /// <summary>The Z-function of a sequence, O(n²) by definition.</summary>
    public static int[] NaiveZ(int[] s)
    {
        var z = new int[s.Length];
        for (int k = 0; k < s.Length; k++)
        {
            int length = 0;
            while (k + length < s.Length && s[length] == s[k + length])
            {
                length++;
            }

            z[k] = length;
        }

        return z;
    }

    /// <summary>A float64 result as the processors round it: below −float.MaxValue is −∞.</summary>
    public static double Ban(double value) => value < -float.MaxValue ? double.NegativeInfinity : value;
}

using System;
using System.Collections.Generic;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references for typical, epsilon, eta, top-nσ, XTC, dynamic
/// temperature and mirostat v1/v2 (docs/algorithms/truncation.md, docs/algorithms/warping.md, docs/algorithms/selection.md#mirostat), written from the rules with LINQ and full sorts.
/// Each also reports how close its decisions were to a boundary, so tests skip only genuinely fragile cases.
/// </summary>
public static class ReferenceTruncation
{
    private static readonly double Ln2 = Math.Log(2);

    public static int[] Finite(float[] row) => Enumerable.Range(0, row.Length).Where(i => !float.IsNegativeInfinity(row[i])).ToArray();

    public static double Lse(float[] row)
    {
        var finite = Finite(row);
        double m = finite.Max(i => (double)row[i]);
        return m + Math.Log(finite.Sum(i => Math.Exp(row[i] - m)));
    }

    public static double Entropy(float[] row)
    {
        double lse = Lse(row);
        return -Finite(row).Select(i => row[i] - lse).Where(lp => Math.Exp(lp) > 0).Sum(lp => Math.Exp(lp) * lp);
    }

    /// <summary>The k-th largest finite value, or -inf when k exceeds |F| (keep everything).</summary>
    public static double KthLargestFinite(float[] row, int k)
    {
        var sorted = Finite(row).Select(i => (double)row[i]).OrderByDescending(v => v).ToArray();
        return k > sorted.Length ? double.NegativeInfinity : sorted[k - 1];
    }

    public static double EpsilonThreshold(float[] row, double epsilon) => Lse(row) + Math.Log(epsilon);

    public static double EtaThreshold(float[] row, double epsilon)
    {
        double eta = Math.Min(epsilon, Math.Sqrt(epsilon) * Math.Exp(-Entropy(row)));
        return Lse(row) + Math.Log(eta);
    }

    public static double TopNSigmaThreshold(float[] row, double n)
    {
        var values = Finite(row).Select(i => (double)row[i]).ToArray();
        if (values.Length <= 1)
        {
            return double.NegativeInfinity;
        }

        double mean = values.Average();
        double sigma = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        return values.Max() - (n * sigma);
    }

    /// <summary>The typical kept set; <paramref name="margin"/> is the smallest distance of a decision to its boundary.</summary>
    public static bool[] Typical(float[] row, double mass, bool strict, int minTokensToKeep, out double margin)
    {
        double lse = Lse(row);
        double h = Entropy(row);
        var items = Finite(row)
            .Select(i => (Id: i, S: Math.Abs(-(row[i] - lse) - h), P: Math.Exp(row[i] - lse)))
            .OrderBy(t => t.S).ThenBy(t => t.Id).ToList();
        margin = double.PositiveInfinity;
        var kept = new bool[row.Length];
        if (mass >= 1)
        {
            foreach (var item in items)
            {
                kept[item.Id] = true;
            }

            return kept;
        }

        int n = items.Count;
        double cumulative = 0;
        for (int j = 0; j < items.Count; j++)
        {
            cumulative += items[j].P;
            margin = Math.Min(margin, Math.Abs(cumulative - mass));
            if (strict ? cumulative > mass : cumulative >= mass)
            {
                n = j + 1;
                break;
            }
        }

        n = Math.Max(n, Math.Min(minTokensToKeep, items.Count));
        double cut = items[n - 1].S;
        foreach (var item in items)
        {
            kept[item.Id] = item.S <= cut;
            if (item.S != cut)
            {
                margin = Math.Min(margin, Math.Abs(item.S - cut));
            }
        }

        return kept;
    }

    /// <summary>The row after XTC acts (the random draw already decided to act).</summary>
    public static float[] Xtc(float[] row, double threshold, int minTokensToKeep, IReadOnlyCollection<int> protectedTokens, out double margin)
    {
        double lse = Lse(row);
        var finite = Finite(row);
        var p = row.Select(z => Math.Exp(z - lse)).ToArray();
        margin = finite.Select(i => Math.Abs(p[i] - threshold)).DefaultIfEmpty(double.PositiveInfinity).Min();
        var qualifiers = finite.Where(i => p[i] >= threshold).ToArray();
        if (qualifiers.Length < 2)
        {
            return (float[])row.Clone();
        }

        double pMin = qualifiers.Min(i => p[i]);
        margin = Math.Min(margin, finite.Where(i => p[i] != pMin).Select(i => Math.Abs(p[i] - pMin)).DefaultIfEmpty(double.PositiveInfinity).Min());
        var removed = qualifiers.Where(i => p[i] > pMin).ToArray();
        if (finite.Length - removed.Length < minTokensToKeep || removed.Any(protectedTokens.Contains))
        {
            return (float[])row.Clone();
        }

        var result = (float[])row.Clone();
        foreach (int i in removed)
        {
            result[i] = float.NegativeInfinity;
        }

        return result;
    }

    /// <summary>Dynamic temperature in double precision; <paramref name="temperature"/> is the T used (NaN when a no-op).</summary>
    public static double[] DynamicTemperature(float[] row, double t0, double delta, double exponent, out double temperature)
    {
        var finite = Finite(row);
        temperature = double.NaN;
        if (finite.Length <= 1)
        {
            return row.Select(z => (double)z).ToArray();
        }

        double hn = Entropy(row) / Math.Log(finite.Length);
        double lo = Math.Max(0, t0 - delta);
        double t = lo + ((t0 + delta - lo) * Math.Pow(hn, exponent));
        temperature = t;
        if (t < 1e-5)
        {
            int best = finite.OrderByDescending(i => row[i]).ThenBy(i => i).First();
            return row.Select((z, i) => i == best ? z : double.NegativeInfinity).ToArray();
        }

        return row.Select(z => z / t).ToArray();
    }

    /// <summary>Multinomial draw over the tokens with <c>keep[i]</c>; returns the token, q' and the CDF margin.</summary>
    public static (int Token, double Probability, double Margin) Draw(float[] row, bool[] keep, double u)
    {
        double m = Finite(row).Max(i => (double)row[i]);
        var w = row.Select((z, i) => keep[i] ? Math.Exp(z - m) : 0).ToArray();
        double s = w.Sum();
        double target = u * s;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] <= 0)
            {
                continue;
            }

            double before = cumulative;
            cumulative += w[i];
            last = i;
            if (target < cumulative)
            {
                return (i, w[i] / s, Math.Min(target - before, cumulative - target) / s);
            }
        }

        return (last, w[last] / s, 0);
    }

    public static double NextMu(double mu, double tau, double eta, double q) => mu - (eta * ((-Math.Log(q) / Ln2) - tau));

    /// <summary>Mirostat v2's kept set for μ: surprise −log₂ p ≤ μ, else the top tie group.</summary>
    public static bool[] MirostatV2Keep(float[] row, double mu, out double margin)
    {
        double lse = Lse(row);
        var surprise = row.Select(z => float.IsNegativeInfinity(z) ? double.PositiveInfinity : -(z - lse) / Ln2).ToArray();
        margin = Finite(row).Select(i => Math.Abs(surprise[i] - mu)).Min();
        var keep = surprise.Select(s => s <= mu).ToArray();
        if (!keep.Any(k => k))
        {
            float max = Finite(row).Max(i => row[i]);
            keep = row.Select(z => z == max).ToArray();
        }

        return keep;
    }

    /// <summary>Mirostat v1's ŝ and raw k (|F| when the estimate fails; then FromFormula is false).</summary>
    public static (double SHat, double K, bool FromFormula) MirostatV1K(float[] row, double mu, int m, double nVocab)
    {
        double lse = Lse(row);
        var q = Finite(row).Select(i => Math.Exp(row[i] - lse)).OrderByDescending(p => p).ToArray();
        double num = 0;
        double den = 0;
        bool usable = false;
        for (int i = 1; i <= Math.Min(m, q.Length) - 1; i++)
        {
            if (q[i - 1] > 0 && q[i] > 0)
            {
                double t = Math.Log((i + 1.0) / i);
                num += t * Math.Log(q[i - 1] / q[i]);
                den += t * t;
                usable = true;
            }
        }

        if (!usable || !(num / den > 0))
        {
            return (double.NaN, q.Length, false);
        }

        double s = num / den;
        double eps = s - 1;
        double baseK = Math.Abs(eps) < 1e-6 ? Math.Pow(2, mu) / Math.Log(nVocab) : eps * Math.Pow(2, mu) / (1 - Math.Pow(nVocab, -eps));
        double k = Math.Pow(baseK, 1 / s);
        return double.IsFinite(k) ? (s, k, true) : (s, q.Length, false);
    }

    /// <summary>Mirostat v1's kept set: top-⌊k⌋ (clamped to [1, |F|]) by value, ties kept.</summary>
    public static bool[] MirostatV1Keep(float[] row, double mu, int m, double nVocab, out double kMargin)
    {
        var (_, k, fromFormula) = MirostatV1K(row, mu, m, nVocab);
        int finite = Finite(row).Length;

        // ⌊k⌋ is fragile only near an integer that the clamp to [1, |F|] does not absorb.
        kMargin = fromFormula && k >= 0.5 && k < finite + 1 ? Math.Abs(k - Math.Round(k)) : double.PositiveInfinity;
        int kept = (int)Math.Clamp(Math.Floor(k), 1, finite);
        double tau = KthLargestFinite(row, kept);
        return row.Select(z => z >= tau).ToArray();
    }
}

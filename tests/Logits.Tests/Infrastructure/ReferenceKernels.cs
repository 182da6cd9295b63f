using System;
using System.Collections.Generic;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references for every kernel of <c>ILogitKernels</c>.
/// One row at a time, plain loops, no SIMD, no cleverness. Errors are reported as the kernels must
/// report them, so tests can compare exceptions too.
/// </summary>
public static class ReferenceKernels
{
    /// <summary>Throws the exception a kernel must throw for NaN/+inf, or returns the max (may be -inf).</summary>
    public static double CheckedMax(float[] row, int rowIndex, string stage = "input")
    {
        double m = double.NegativeInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            if (float.IsNaN(row[i]) || float.IsPositiveInfinity(row[i]))
            {
                throw new InvalidLogitsException(rowIndex, i, row[i], stage);
            }

            m = Math.Max(m, row[i]);
        }

        return m;
    }

    private static double NonEmptyMax(float[] row, int rowIndex, string stage)
    {
        double m = CheckedMax(row, rowIndex);
        if (double.IsNegativeInfinity(m))
        {
            throw new NoViableTokenException(rowIndex, stage);
        }

        return m;
    }

    public static double LogSumExp(float[] row, int rowIndex, string stage = "logsumexp")
    {
        double m = NonEmptyMax(row, rowIndex, stage);
        double s = 0;
        foreach (float z in row)
        {
            s += Math.Exp(z - m);
        }

        return m + Math.Log(s);
    }

    public static double[] Softmax(float[] row, int rowIndex)
    {
        double lse = LogSumExp(row, rowIndex);
        return row.Select(z => Math.Exp(z - lse)).ToArray();
    }

    public static double[] LogSoftmax(float[] row, int rowIndex)
    {
        double lse = LogSumExp(row, rowIndex);
        return row.Select(z => float.IsNegativeInfinity(z) ? double.NegativeInfinity : z - lse).ToArray();
    }

    public static double[] Scale(float[] row, double factor) => row.Select(z => z * factor).ToArray();

    public static double[] Affine(double a, float[] x, double b, float[]? y, double c, float[]? z)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            // A zero coefficient skips its term (so 0 * -inf never makes NaN), as the contract says.
            double v = a != 0 ? a * x[i] : 0;
            if (b != 0)
            {
                v += b * y![i];
            }

            if (c != 0)
            {
                v += c * z![i];
            }

            result[i] = v;
        }

        return result;
    }

    public static int ArgMax(float[] row, int rowIndex)
    {
        NonEmptyMax(row, rowIndex, "argmax");
        int best = -1;
        for (int i = 0; i < row.Length; i++)
        {
            if (best < 0 || row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }

    public static float[] MaskBelow(float[] row, float threshold) =>
        row.Select(z => z < threshold ? float.NegativeInfinity : z).ToArray();

    public static float KthLargest(float[] row, int k)
    {
        var sorted = row.OrderByDescending(v => v).ToArray();
        return sorted[k - 1];
    }

    /// <summary>Top-p by the rule of docs/algorithms/truncation.md#top-p, by a full sort; also returns the decision margin for boundary-aware tests.</summary>
    public static (float Threshold, double Margin) TopPThreshold(float[] row, int rowIndex, double p, int minTokensToKeep)
    {
        double lse = LogSumExp(row, rowIndex, "top-p");
        if (p >= 1)
        {
            return (float.NegativeInfinity, double.PositiveInfinity);
        }

        var finite = row.Where(v => !float.IsNegativeInfinity(v)).OrderByDescending(v => v).ToArray();
        double cumulative = 0;
        int n = finite.Length;
        double margin = double.PositiveInfinity;
        for (int i = 0; i < finite.Length; i++)
        {
            double before = cumulative;
            cumulative += Math.Exp(finite[i] - lse);
            margin = Math.Min(margin, Math.Abs(cumulative - (p - 1e-6)));
            if (cumulative >= p - 1e-6)
            {
                n = i + 1;
                margin = Math.Min(Math.Abs(before - (p - 1e-6)), Math.Abs(cumulative - (p - 1e-6)));
                break;
            }
        }

        n = Math.Max(n, Math.Min(minTokensToKeep, finite.Length));
        return (finite[n - 1], margin);
    }

    public static float Gather(float[] row, int id) => id < 0 ? 0f : row[id];

    public static double[] ScatterAdd(float[] row, IReadOnlyList<int> ids, IReadOnlyList<float> values)
    {
        var result = row.Select(v => (double)v).ToArray();
        for (int j = 0; j < ids.Count; j++)
        {
            if (ids[j] >= 0)
            {
                result[ids[j]] += values[j];
            }
        }

        return result;
    }

    public static float[] Scatter(float[] row, IReadOnlyList<int> ids, IReadOnlyList<float> values)
    {
        var result = (float[])row.Clone();
        for (int j = 0; j < ids.Count; j++)
        {
            if (ids[j] >= 0)
            {
                result[ids[j]] = values[j];
            }
        }

        return result;
    }

    /// <summary>Inverse-CDF sampling in double precision; also returns the distance of u·S to the nearest CDF step.</summary>
    public static (int Token, double Margin) Sample(float[] row, int rowIndex, double u)
    {
        double m = NonEmptyMax(row, rowIndex, "sample");
        var w = row.Select(z => Math.Exp(z - m)).ToArray();
        double s = w.Sum();
        double target = u * s;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] > 0)
            {
                lastPositive = i;
            }

            double before = cumulative;
            cumulative += w[i];
            if (target < cumulative && w[i] > 0)
            {
                return (i, Math.Min(target - before, cumulative - target) / s);
            }
        }

        return (lastPositive, 0);
    }

    /// <summary>The checked row maximum: NaN/+inf throw; an all <c>-inf</c> row gives <c>-inf</c> (no exception).</summary>
    public static float RowMax(float[] row, int rowIndex) => (float)CheckedMax(row, rowIndex);

    /// <summary>Statistics of one row over its finite entries, all of them, in double precision.</summary>
    /// <param name="Finite">The number of finite entries.</param>
    /// <param name="Max">The maximum (<c>-inf</c> for an empty row).</param>
    /// <param name="LogSumExp">The log-sum-exp over the finite entries (<c>-inf</c> for an empty row).</param>
    /// <param name="Entropy">The entropy in nats of the softmax (NaN for an empty row).</param>
    /// <param name="EntropyScale">
    /// <c>max(1, ln S + Σ p_i |z_i - m|)</c>: the size of the two terms whose difference is the entropy
    /// (<c>H = ln S - Σ p_i (z_i - m)</c>), which sets the absolute precision a float32-weighted kernel can reach.
    /// </param>
    /// <param name="Mean">The mean of the finite entries (NaN for an empty row).</param>
    /// <param name="StandardDeviation">The population standard deviation of the finite entries (NaN for an empty row).</param>
    public readonly record struct RowStatisticsResult(
        int Finite, float Max, double LogSumExp, double Entropy, double EntropyScale, double Mean, double StandardDeviation);

    /// <summary>Row statistics by the textbook formulas: probabilities first, then <c>-Σ p ln p</c>; two-pass moments.</summary>
    public static RowStatisticsResult RowStatistics(float[] row, int rowIndex)
    {
        double m = CheckedMax(row, rowIndex);
        var finite = row.Where(v => !float.IsNegativeInfinity(v)).Select(v => (double)v).ToArray();
        if (finite.Length == 0)
        {
            return new RowStatisticsResult(0, float.NegativeInfinity, double.NegativeInfinity, double.NaN, 1, double.NaN, double.NaN);
        }

        double sum = 0;
        foreach (double z in finite)
        {
            sum += Math.Exp(z - m);
        }

        double logSum = Math.Log(sum);
        double entropy = 0;
        double spread = 0;
        foreach (double z in finite)
        {
            double logP = (z - m) - logSum;
            double p = Math.Exp(logP);
            if (p > 0)
            {
                entropy -= p * logP;
                spread += p * (m - z);
            }
        }

        double mean = 0;
        foreach (double z in finite)
        {
            mean += z;
        }

        mean /= finite.Length;
        double squares = 0;
        foreach (double z in finite)
        {
            squares += (z - mean) * (z - mean);
        }

        return new RowStatisticsResult(
            finite.Length, (float)m, m + logSum, entropy, Math.Max(1, logSum + spread), mean, Math.Sqrt(squares / finite.Length));
    }

    /// <summary>Sets every entry outside <c>[lower, upper]</c> to <c>-inf</c>; keeps the others bit for bit.</summary>
    public static float[] MaskOutside(float[] row, float lower, float upper) =>
        row.Select(z => z < lower || z > upper ? float.NegativeInfinity : z).ToArray();

    /// <summary>The <paramref name="count"/> largest values, descending, by a full sort (<c>-inf</c> entries are values too).</summary>
    public static float[] LargestValues(float[] row, int count) =>
        row.OrderByDescending(v => v).Take(count).ToArray();

    /// <summary>A typical band with the distances of its two decisions to their boundaries.</summary>
    /// <param name="Lower">The smallest kept logit (<c>-inf</c> when everything is kept).</param>
    /// <param name="Upper">The largest kept logit (<c>+inf</c> when everything is kept).</param>
    /// <param name="MassMargin">How far the accumulated mass was from <c>mass</c> at the stopping step and the step before.</param>
    /// <param name="ScoreMargin">
    /// How far the cut score is from the nearest score of a token with another value (ties in value score alike
    /// in every implementation; near ties in score can be ordered either way by rounding).
    /// </param>
    /// <param name="ScoreScale">The entropy scale (<see cref="RowStatisticsResult.EntropyScale"/>): scores carry the entropy's absolute error.</param>
    public readonly record struct TypicalResult(float Lower, float Upper, double MassMargin, double ScoreMargin, double ScoreScale);

    /// <summary>
    /// Locally typical sampling by the rule of docs/algorithms/truncation.md#typical, by a full sort: scores
    /// <c>s_i = |-ln p_i - H|</c>, ascending (then by id), accumulate <c>p</c> until it reaches <paramref name="mass"/>
    /// (or exceeds it when <paramref name="strict"/>), raise to <c>min(minTokensToKeep, |F|)</c>, keep every token scoring at
    /// most the n-th score; the band is the smallest and largest kept logit.
    /// </summary>
    public static TypicalResult TypicalBand(float[] row, int rowIndex, double mass, int minTokensToKeep, bool strict)
    {
        var stats = RowStatistics(row, rowIndex);
        if (stats.Finite == 0)
        {
            throw new NoViableTokenException(rowIndex, "typical");
        }

        if (mass >= 1)
        {
            return new TypicalResult(float.NegativeInfinity, float.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity, stats.EntropyScale);
        }

        double m = stats.Max;
        double logSum = stats.LogSumExp - m;
        var ids = Enumerable.Range(0, row.Length).Where(i => !float.IsNegativeInfinity(row[i])).ToArray();
        double LogP(int i) => (row[i] - m) - logSum;
        double Score(int i) => Math.Abs(-LogP(i) - stats.Entropy);
        var order = ids.OrderBy(Score).ThenBy(i => i).ToArray();

        int n = order.Length;
        double cumulative = 0;
        double massMargin = double.PositiveInfinity;
        for (int j = 0; j < order.Length; j++)
        {
            double before = cumulative;
            cumulative += Math.Exp(LogP(order[j]));
            if (strict ? cumulative > mass : cumulative >= mass)
            {
                n = j + 1;
                massMargin = Math.Min(Math.Abs(before - mass), Math.Abs(cumulative - mass));
                break;
            }
        }

        if (n == order.Length && double.IsPositiveInfinity(massMargin))
        {
            // Never reached: the total mass (1 up to rounding) stayed below the target.
            massMargin = Math.Abs(cumulative - mass);
        }

        n = Math.Max(n, Math.Min(minTokensToKeep, order.Length));
        int cutToken = order[n - 1];
        double cut = Score(cutToken);
        float lower = float.PositiveInfinity;
        float upper = float.NegativeInfinity;
        double scoreMargin = double.PositiveInfinity;
        foreach (int i in ids)
        {
            double s = Score(i);
            if (s <= cut)
            {
                lower = Math.Min(lower, row[i]);
                upper = Math.Max(upper, row[i]);
            }

            if (row[i] != row[cutToken])
            {
                scoreMargin = Math.Min(scoreMargin, Math.Abs(s - cut));
            }
        }

        return new TypicalResult(lower, upper, massMargin, scoreMargin, stats.EntropyScale);
    }
}

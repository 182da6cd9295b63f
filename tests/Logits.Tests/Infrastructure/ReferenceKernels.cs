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
}

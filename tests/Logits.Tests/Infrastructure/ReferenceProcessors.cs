using System;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>Scalar double-precision references of the core processors, one row at a time, straight from the rules of docs/algorithms/.</summary>
public static class ReferenceProcessors
{
    private static readonly float NegInf = float.NegativeInfinity;

    private static bool IsEmpty(float[] row) => row.All(float.IsNegativeInfinity);

    public static float[] Temperature(float[] row, float t)
    {
        if (IsEmpty(row))
        {
            return (float[])row.Clone();
        }

        if (t < 1e-5f)
        {
            int best = 0;
            for (int i = 1; i < row.Length; i++)
            {
                if (row[i] > row[best])
                {
                    best = i;
                }
            }

            return row.Select((z, i) => i == best ? z : NegInf).ToArray();
        }

        return row.Select(z => (float)(z / (double)t)).ToArray();
    }

    /// <summary>The k-th largest finite value, or -inf when there are fewer than k finite values.</summary>
    public static double KthLargestFinite(float[] row, int k)
    {
        var finite = row.Where(z => !float.IsNegativeInfinity(z)).OrderByDescending(z => z).ToArray();
        return k <= finite.Length ? finite[k - 1] : double.NegativeInfinity;
    }

    public static float[] MaskBelow(float[] row, double threshold) =>
        row.Select(z => z < threshold ? NegInf : z).ToArray();

    public static float[] TopK(float[] row, int k, int minKeep)
    {
        if (IsEmpty(row))
        {
            return (float[])row.Clone();
        }

        return MaskBelow(row, KthLargestFinite(row, Math.Max(k, minKeep)));
    }

    public static float[] TopKExact(float[] row, int k, int minKeep)
    {
        var kept = TopK(row, k, minKeep);
        int limit = Math.Max(k, minKeep);
        var order = Enumerable.Range(0, row.Length).Where(i => !float.IsNegativeInfinity(kept[i]))
            .OrderByDescending(i => kept[i]).ThenBy(i => i).ToArray();
        foreach (int i in order.Skip(limit))
        {
            kept[i] = NegInf;
        }

        return kept;
    }

    public static (float[] Row, double Margin) TopP(float[] row, double p, int minKeep)
    {
        if (IsEmpty(row) || p >= 1)
        {
            return ((float[])row.Clone(), double.PositiveInfinity);
        }

        var (threshold, margin) = ReferenceKernels.TopPThreshold(row, 0, p, minKeep);
        return (MaskBelow(row, threshold), margin);
    }

    public static float[] MinP(float[] row, double pMin, int minKeep)
    {
        if (IsEmpty(row) || pMin == 0)
        {
            return (float[])row.Clone();
        }

        double m = row.Max();
        double threshold = (float)(m + Math.Log(pMin));
        threshold = Math.Min(threshold, KthLargestFinite(row, minKeep));
        return MaskBelow(row, threshold);
    }
}

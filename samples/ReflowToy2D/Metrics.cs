using System;

namespace Logits.Samples.ReflowToy2D;

/// <summary>Sample-based distances between two point sets in the plane (reported in docs/flows.md#reflowtoy2d-results).</summary>
public static class Metrics
{
    /// <summary>
    /// Energy distance ED(P, Q) = 2E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ with U-statistics (i ≠ j) for the within-set terms;
    /// it can be slightly negative when P = Q.
    /// </summary>
    public static double EnergyDistance(float[] x, float[] y)
    {
        return (2 * MeanDistance(x, y, within: false)) - MeanDistance(x, x, within: true) - MeanDistance(y, y, within: true);
    }

    /// <summary>Mean squared distance between matched rows: E‖a − b‖².</summary>
    public static double MeanSquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }

        return sum / (a.Length / 2);
    }

    private static double MeanDistance(float[] a, float[] b, bool within)
    {
        int n = a.Length / 2;
        int m = b.Length / 2;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double ax = a[2 * i];
            double ay = a[(2 * i) + 1];
            for (int j = 0; j < m; j++)
            {
                if (within && i == j)
                {
                    continue;
                }

                double dx = ax - b[2 * j];
                double dy = ay - b[(2 * j) + 1];
                sum += Math.Sqrt((dx * dx) + (dy * dy));
            }
        }

        return sum / (within ? (double)n * (n - 1) : (double)n * m);
    }
}

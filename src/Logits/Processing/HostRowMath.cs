using System;
using System.Numerics;

namespace Logits.Processing;

/// <summary>
/// Float64 row statistics computed on the host, for rules the kernels cannot express (entropy, standard
/// deviation, typicality scores). Rows are copied out with <c>LogitBatch.CopyRowTo</c> into pooled buffers.
/// </summary>
/// <remarks>
/// The library accumulates in float64 (docs/algorithms/conventions.md#precision) for entropy, standard deviation and thresholds built
/// with <c>ln</c>/<c>exp</c>; every method here accumulates in float64 and ignores <c>-∞</c> entries.
/// Callers guarantee the row holds at least one finite value (<see cref="LogitProcessor"/> never hands
/// an empty row to a subclass).
/// </remarks>
internal static class HostRowMath
{
    /// <summary>The row maximum, the number of finite entries and <c>lse = m + ln Σ exp(z_i - m)</c>, in float64.</summary>
    public static double LogSumExp(ReadOnlySpan<float> row, out int finiteCount, out float max)
    {
        max = float.NegativeInfinity;
        finiteCount = 0;
        foreach (float z in row)
        {
            if (!float.IsNegativeInfinity(z))
            {
                finiteCount++;
                if (z > max)
                {
                    max = z;
                }
            }
        }

        double sum = 0;
        foreach (float z in row)
        {
            // exp(-inf - m) = 0: filtered entries add nothing.
            sum += Math.Exp((double)z - max);
        }

        return max + Math.Log(sum);
    }

    /// <summary>The entropy in nats, <c>H = -Σ_F p_i ln p_i</c>, with <c>p_i = exp(z_i - lse)</c>; terms with <c>p_i = 0</c> add 0.</summary>
    public static double Entropy(ReadOnlySpan<float> row, double lse)
    {
        double h = 0;
        foreach (float z in row)
        {
            if (float.IsNegativeInfinity(z))
            {
                continue;
            }

            double logP = z - lse;
            double p = Math.Exp(logP);
            if (p > 0)
            {
                h -= p * logP;
            }
        }

        return h;
    }

    /// <summary>
    /// <c>destination = log_softmax(factor · x)</c> in float64, max-shifted (a temperature is <c>factor = 1/τ</c>); the
    /// shared float64 log-softmax of the distillation losses.
    /// </summary>
    public static void LogSoftmax<T>(ReadOnlySpan<T> x, double factor, Span<double> destination)
        where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = double.CreateTruncating(x[i]) * factor;
        }

        LogSoftmaxInPlace(destination[..x.Length]);
    }

    /// <summary><c>x ← log_softmax(x)</c> in float64, max-shifted.</summary>
    public static void LogSoftmaxInPlace(Span<double> x)
    {
        double max = double.NegativeInfinity;
        foreach (double v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (double v in x)
        {
            sum += Math.Exp(v - max);
        }

        double logSum = Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = x[i] - max - logSum;
        }
    }
}

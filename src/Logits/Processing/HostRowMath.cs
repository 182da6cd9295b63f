using System;

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
}

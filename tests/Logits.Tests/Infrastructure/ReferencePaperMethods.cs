using System;
using System.Linq;

namespace Logits.Tests.Infrastructure;

/// <summary>
/// Slow, obviously correct double-precision references of the paper methods' inference side, one row at a
/// time, straight from docs/algorithms/paper-methods.md#fusion and docs/algorithms/guidance.md#steer.
/// </summary>
public static class ReferencePaperMethods
{
    private static double LogSumExp(float[] row)
    {
        double m = row.Max(v => (double)v);
        if (double.IsNegativeInfinity(m))
        {
            return m;
        }

        return m + Math.Log(row.Sum(v => Math.Exp(v - m)));
    }

    /// <summary>p̃ = softmax(z) + λ f on F, 0 elsewhere.</summary>
    public static double[] CopilotRaw(float[] z, float[] f, double lambda)
    {
        double lse = LogSumExp(z);
        return z.Select((zi, i) => float.IsNegativeInfinity(zi) ? 0 : Math.Exp(zi - lse) + (lambda * f[i])).ToArray();
    }

    /// <summary>argmax_F p̃ (ties to the lowest index).</summary>
    public static int CopilotGreedy(float[] z, float[] f, double lambda)
    {
        var raw = CopilotRaw(z, f, lambda);
        int best = -1;
        for (int i = 0; i < z.Length; i++)
        {
            if (!float.IsNegativeInfinity(z[i]) && (best < 0 || raw[i] > raw[best]))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>The probability-mode processor output log q (docs/algorithms/paper-methods.md#fusion).</summary>
    public static double[] CopilotProbability(float[] z, float[] f, double lambda)
    {
        if (z.All(float.IsNegativeInfinity))
        {
            return z.Select(v => (double)v).ToArray();
        }

        double lse = LogSumExp(z);
        var logMass = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            if (float.IsNegativeInfinity(z[i]))
            {
                logMass[i] = double.NegativeInfinity;
                continue;
            }

            double logP = z[i] - lse;
            double fused = Math.Exp(logP) + (lambda * f[i]);

            // A zero correction leaves p̂_i > 0 untouched; its log is exact even where exp underflows.
            logMass[i] = lambda * f[i] == 0 ? logP : fused > 0 ? Math.Log(fused) : double.NegativeInfinity;
        }

        double max = logMass.Max();
        if (double.IsNegativeInfinity(max))
        {
            int best = CopilotGreedy(z, f, lambda);
            return z.Select((_, i) => i == best ? 0.0 : double.NegativeInfinity).ToArray();
        }

        double logTotal = max + Math.Log(logMass.Sum(v => Math.Exp(v - max)));
        return logMass.Select(v => double.IsNegativeInfinity(v) ? v : v - logTotal).ToArray();
    }

    /// <summary>The logit-mode output z + λ f (−∞ sticky).</summary>
    public static double[] CopilotLogit(float[] z, float[] f, double lambda) =>
        z.Select((zi, i) => float.IsNegativeInfinity(zi) ? double.NegativeInfinity : zi + (lambda * f[i])).ToArray();

    /// <summary>STEER with its −∞ rule; a null provider row (coefficient 0) is not used.</summary>
    public static double[] Steer(float[] expert, float[]? baseRow, float[]? negative, double gamma, double eta)
    {
        double lseFt = LogSumExp(expert);
        if (double.IsNegativeInfinity(lseFt))
        {
            return expert.Select(v => (double)v).ToArray();
        }

        double lseB = gamma > 0 ? LogSumExp(baseRow!) : double.NegativeInfinity;
        double lseN = eta > 0 ? LogSumExp(negative!) : double.NegativeInfinity;
        var result = new double[expert.Length];
        for (int i = 0; i < expert.Length; i++)
        {
            double lpFt = expert[i] - lseFt;
            if (double.IsNegativeInfinity(lpFt))
            {
                result[i] = double.NegativeInfinity;
                continue;
            }

            double lpB = gamma > 0 ? baseRow![i] - lseB : double.NegativeInfinity;
            double lpN = eta > 0 ? negative![i] - lseN : double.NegativeInfinity;
            double score = lpFt;
            if (double.IsFinite(lpB))
            {
                score += gamma * (lpFt - lpB);
            }

            if (double.IsFinite(lpN))
            {
                score -= eta * lpN;
            }

            result[i] = score;
        }

        return result;
    }

    public static double[] Softmax(double[] scores)
    {
        double m = scores.Max();
        double s = scores.Sum(v => Math.Exp(v - m));
        return scores.Select(v => Math.Exp(v - m) / s).ToArray();
    }
}

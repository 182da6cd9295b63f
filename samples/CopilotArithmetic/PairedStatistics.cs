using System;
using System.Collections.Generic;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>Paired comparisons of two classifiers on the same problems.</summary>
public static class PairedStatistics
{
    /// <summary>The discordant counts: <c>b</c> = problems only <paramref name="treatment"/> gets right,
    /// <c>c</c> = problems only <paramref name="control"/> gets right.</summary>
    /// <param name="control">Per problem, whether the control is right.</param>
    /// <param name="treatment">Per problem, whether the treatment is right (the same problems, in the same order).</param>
    /// <returns>(b, c).</returns>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static (int OnlyTreatment, int OnlyControl) Discordant(IReadOnlyList<bool> control, IReadOnlyList<bool> treatment)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(treatment);
        if (control.Count != treatment.Count)
        {
            throw new ArgumentException($"Has {treatment.Count} outcomes but the control has {control.Count}.", nameof(treatment));
        }

        int b = 0, c = 0;
        for (int i = 0; i < control.Count; i++)
        {
            b += treatment[i] && !control[i] ? 1 : 0;
            c += control[i] && !treatment[i] ? 1 : 0;
        }

        return (b, c);
    }

    /// <summary>The exact two-sided McNemar test: <c>p = min(1, 2 · P(X ≤ min(b, c)))</c> with <c>X ~ Binomial(b + c, ½)</c>
    /// (McNemar, Psychometrika 12, 1947; the exact binomial form). No discordant pair gives 1.</summary>
    /// <param name="onlyTreatment">b.</param>
    /// <param name="onlyControl">c.</param>
    /// <returns>The p-value.</returns>
    public static double McNemarExact(int onlyTreatment, int onlyControl)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onlyTreatment);
        ArgumentOutOfRangeException.ThrowIfNegative(onlyControl);
        int n = onlyTreatment + onlyControl, k = Math.Min(onlyTreatment, onlyControl);
        if (n == 0)
        {
            return 1;
        }

        // Σ_{i ≤ k} C(n, i) / 2^n in log space (n can be thousands).
        double logHalfPower = n * Math.Log(0.5);
        double logChoose = 0, total = 0;
        for (int i = 0; i <= k; i++)
        {
            if (i > 0)
            {
                logChoose += Math.Log(n - i + 1) - Math.Log(i);
            }

            total += Math.Exp(logChoose + logHalfPower);
        }

        return Math.Min(1, 2 * total);
    }
}

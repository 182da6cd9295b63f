using System;
using System.Collections.Generic;

namespace Logits.Tests.Infrastructure;

/// <summary>Pearson's chi-square goodness-of-fit test with its p-value from the regularised incomplete gamma function.</summary>
public static class ChiSquare
{
    /// <summary>The outcome of a test: statistic, degrees of freedom, p-value and the number of observations in zero-probability cells.</summary>
    public readonly record struct Result(double Statistic, int DegreesOfFreedom, double PValue, long ImpossibleObservations)
    {
        /// <summary>Whether the law is rejected at <paramref name="alpha"/> (or an impossible outcome was observed).</summary>
        public bool Rejects(double alpha) => ImpossibleObservations > 0 || PValue < alpha;

        /// <inheritdoc />
        public override string ToString() => $"X2 = {Statistic:F3}, df = {DegreesOfFreedom}, p = {PValue:G4}, impossible = {ImpossibleObservations}";
    }

    /// <summary>
    /// Tests observed counts against probabilities : cells with expected count below
    /// <paramref name="minExpected"/> are pooled into one cell; cells with q = 0 must be empty.
    /// </summary>
    public static Result Test(IReadOnlyList<long> observed, IReadOnlyList<double> probabilities, double minExpected = 5.0)
    {
        long total = 0;
        foreach (long o in observed)
        {
            total += o;
        }

        double x2 = 0;
        int cells = 0;
        long impossible = 0;
        double pooledExpected = 0;
        long pooledObserved = 0;
        for (int i = 0; i < observed.Count; i++)
        {
            double expected = total * probabilities[i];
            if (probabilities[i] == 0)
            {
                impossible += observed[i];
                continue;
            }

            if (expected < minExpected)
            {
                pooledExpected += expected;
                pooledObserved += observed[i];
                continue;
            }

            x2 += (observed[i] - expected) * (observed[i] - expected) / expected;
            cells++;
        }

        if (pooledExpected > 0)
        {
            x2 += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
            cells++;
        }

        int df = Math.Max(1, cells - 1);
        return new Result(x2, df, PValue(x2, df), impossible);
    }

    /// <summary>P(X² ≥ x) for <paramref name="degreesOfFreedom"/> degrees of freedom: <c>Q(df/2, x/2)</c>.</summary>
    public static double PValue(double statistic, int degreesOfFreedom) => UpperRegularizedGamma(degreesOfFreedom / 2.0, statistic / 2.0);

    /// <summary>The regularised upper incomplete gamma <c>Q(a, x) = Γ(a, x)/Γ(a)</c>: series for <c>x &lt; a + 1</c>, Lentz continued fraction otherwise.</summary>
    public static double UpperRegularizedGamma(double a, double x)
    {
        if (x <= 0)
        {
            return 1.0;
        }

        double logPrefix = (a * Math.Log(x)) - x - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1.0 / a;
            double sum = term;
            for (int n = 1; n < 10_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-16)
                {
                    break;
                }
            }

            return 1.0 - (sum * Math.Exp(logPrefix));
        }

        const double Tiny = 1e-300;
        double b = x + 1 - a;
        double c = 1 / Tiny;
        double d = 1 / b;
        double h = d;
        for (int i = 1; i < 10_000; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            if (Math.Abs(d) < Tiny)
            {
                d = Tiny;
            }

            c = b + (an / c);
            if (Math.Abs(c) < Tiny)
            {
                c = Tiny;
            }

            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Exp(logPrefix) * h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9), about 15 digits.</summary>
    public static double LogGamma(double x)
    {
        double[] g =
        {
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        };
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        x -= 1;
        double sum = g[0];
        for (int i = 1; i < 9; i++)
        {
            sum += g[i] / (x + i);
        }

        double t = x + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((x + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}

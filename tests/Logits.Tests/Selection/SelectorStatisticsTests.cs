using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Selection;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Selection;

/// <summary>
/// Statistical tests of the seeded selectors: 100 000 draws from a fixed 8-token distribution (one token
/// removed) must fit <c>softmax(z)</c> by a chi-square goodness-of-fit test (p-value &gt; 1e-4), and the same test
/// must reject a reference distribution with one probability shifted by 0.01, so it can fail.
/// </summary>
public sealed class SelectorStatisticsTests
{
    private const int Draws = 100_000;
    private const double Alpha = 1e-4;
    private const int Removed = 4;

    private static readonly float[] Logits = { 1.0f, 0.5f, -0.2f, 2.0f, float.NegativeInfinity, 0.0f, -1.0f, 1.5f };

    private static double[] Softmax(float[] z)
    {
        double m = z.Max(v => (double)v);
        var w = z.Select(v => Math.Exp(v - m)).ToArray();
        double s = w.Sum();
        return w.Select(v => v / s).ToArray();
    }

    private static int[] Sequence(ITokenSelector selector, int count)
    {
        using var batch = CpuLogitBatch.FromRow(Logits);
        var contexts = SamplingContext.ForRows(1);
        var token = new int[1];
        var result = new int[count];
        for (int i = 0; i < count; i++)
        {
            selector.SelectTokens(batch, contexts, token);
            result[i] = token[0];
        }

        return result;
    }

    private static long[] Counts(ITokenSelector selector)
    {
        var counts = new long[Logits.Length];
        foreach (int token in Sequence(selector, Draws))
        {
            counts[token]++;
        }

        return counts;
    }

    /// <summary>Pearson's chi-square over the cells with positive expected probability; returns the p-value.</summary>
    private static double ChiSquarePValue(long[] observed, double[] probabilities)
    {
        long n = observed.Sum();
        double chi2 = 0;
        int cells = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            if (probabilities[i] > 0)
            {
                double expected = n * probabilities[i];
                chi2 += (observed[i] - expected) * (observed[i] - expected) / expected;
                cells++;
            }
        }

        return ChiSquare.SurvivalFunction(chi2, cells - 1);
    }

    public static TheoryData<string> SelectorNames() => new() { "multinomial", "gumbel" };

    private static ITokenSelector Make(string name, ulong seed) =>
        name == "multinomial" ? new MultinomialSelector(seed) : new GumbelSelector(seed);

    [Theory]
    [MemberData(nameof(SelectorNames))]
    public void Draws_fit_softmax_and_the_test_rejects_a_skewed_reference(string name)
    {
        var counts = Counts(Make(name, 20240611));
        var p = Softmax(Logits);

        counts[Removed].Should().Be(0, "a removed token is never drawn");
        ChiSquarePValue(counts, p).Should().BeGreaterThan(Alpha, $"{name} draws must fit softmax(z); counts {string.Join(",", counts)}");

        // Shift 0.01 of probability from the likeliest token (3) to token 0: the test must notice.
        var skewed = (double[])p.Clone();
        skewed[3] -= 0.01;
        skewed[0] += 0.01;
        ChiSquarePValue(counts, skewed).Should().BeLessThan(Alpha, "the goodness-of-fit test must be able to fail");
    }

    [Theory]
    [MemberData(nameof(SelectorNames))]
    public void Same_seed_reproduces_and_another_seed_differs(string name)
    {
        var first = Sequence(Make(name, 7), 2000);
        Sequence(Make(name, 7), 2000).Should().Equal(first);
        Sequence(Make(name, 8), 2000).Should().NotEqual(first);
        first.Should().NotContain(Removed);
    }

    [Fact]
    public void Chi_square_survival_function_matches_closed_forms()
    {
        foreach (double x in new[] { 0.1, 1.0, 2.5, 7.0, 20.0, 60.0 })
        {
            // df = 2: exp(-x/2); df = 6: exp(-x/2)(1 + x/2 + (x/2)²/2).
            ChiSquare.SurvivalFunction(x, 2).Should().BeApproximately(Math.Exp(-x / 2), 1e-12);
            double h = x / 2;
            double expected6 = Math.Exp(-h) * (1 + h + (h * h / 2));
            ChiSquare.SurvivalFunction(x, 6).Should().BeApproximately(expected6, 1e-12 + (1e-9 * expected6));
        }

        // Table values: the 0.999 quantile of chi-square(6) is 22.4577; the 0.95 quantile of chi-square(1) is 3.8415.
        ChiSquare.SurvivalFunction(22.4577, 6).Should().BeApproximately(0.001, 1e-6);
        ChiSquare.SurvivalFunction(3.841459, 1).Should().BeApproximately(0.05, 1e-6);
        ChiSquare.SurvivalFunction(0, 6).Should().Be(1);
    }

    /// <summary>The chi-square survival function <c>Q(k/2, x/2)</c> (regularised upper incomplete gamma).</summary>
    private static class ChiSquare
    {
        public static double SurvivalFunction(double x, int degreesOfFreedom)
        {
            if (x <= 0)
            {
                return 1;
            }

            double a = degreesOfFreedom / 2.0;
            double h = x / 2;
            return h < a + 1 ? 1 - LowerSeries(a, h) : UpperContinuedFraction(a, h);
        }

        /// <summary>P(a, x) by its power series (Numerical Recipes §6.2).</summary>
        private static double LowerSeries(double a, double x)
        {
            double term = 1 / a;
            double sum = term;
            for (int n = 1; n < 10_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-17)
                {
                    break;
                }
            }

            return sum * Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a));
        }

        /// <summary>Q(a, x) by its continued fraction, modified Lentz (Numerical Recipes §6.2).</summary>
        private static double UpperContinuedFraction(double a, double x)
        {
            const double Tiny = 1e-300;
            double b = x + 1 - a;
            double c = 1 / Tiny;
            double d = 1 / b;
            double f = d;
            for (int i = 1; i < 10_000; i++)
            {
                double an = -i * (i - a);
                b += 2;
                d = (an * d) + b;
                d = Math.Abs(d) < Tiny ? Tiny : d;
                c = b + (an / c);
                c = Math.Abs(c) < Tiny ? Tiny : c;
                d = 1 / d;
                double delta = d * c;
                f *= delta;
                if (Math.Abs(delta - 1) < 1e-16)
                {
                    break;
                }
            }

            return Math.Exp(-x + (a * Math.Log(x)) - LogGamma(a)) * f;
        }

        /// <summary>ln Γ(a) by the Lanczos approximation (g = 7, 9 terms), accurate to ~1e-15.</summary>
        private static double LogGamma(double a)
        {
            double[] g =
            {
                0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
                -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
                1.5056327351493116e-7,
            };
            if (a < 0.5)
            {
                return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
            }

            a -= 1;
            double sum = g[0];
            for (int i = 1; i < g.Length; i++)
            {
                sum += g[i] / (a + i);
            }

            double t = a + 7.5;
            return (0.5 * Math.Log(2 * Math.PI)) + ((a + 0.5) * Math.Log(t)) - t + Math.Log(sum);
        }
    }
}

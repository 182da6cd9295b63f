using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Samples.Auctions;
using Xunit;

namespace Logits.Tests.Samples.Auctions;

/// <summary>Position auctions under MNL clicks: worked examples, Myerson's identity, and a randomised cross-check of welfare, allocation and VCG payments against brute-force enumeration up to 6 ads × 4 slots.</summary>
public sealed class MnlAuctionTests
{
    private static readonly double[,] WeightsA = { { 1.0, 0.5 }, { 0.8, 0.9 }, { 0.3, 0.6 } };
    private static readonly double[] ValuesA = { 3, 2, 4 };

    [Fact]
    public void Example_A()
    {
        var solution = MnlAuction.SolveWelfare(WeightsA, ValuesA, 2);
        solution.SlotOfAd.Should().Equal(0, -1, 1);
        solution.Welfare.Should().BeApproximately(2.7 / 1.3, 1e-12);
        solution.ClickProbabilities[0].Should().BeApproximately(0.384615, 1e-6);
        solution.ClickProbabilities[2].Should().BeApproximately(0.230769, 1e-6);
        solution.OutsideProbability.Should().BeApproximately(1 / 2.6, 1e-12);
        solution.Iterations.Should().Be(1, "λ = 0 (F = 5.4), then λ = 2.076923 (F = 0)");

        var vcg = MnlAuction.VcgPayments(WeightsA, ValuesA, 2);
        vcg.WelfareWithout[0].Should().BeApproximately(1.666667, 1e-6);
        vcg.WelfareWithout[2].Should().BeApproximately(1.655172, 1e-6);
        vcg.Payments[0].Should().BeApproximately(0.743590, 1e-6);
        vcg.Payments[2].Should().BeApproximately(0.501326, 1e-6);
        vcg.Payments[1].Should().Be(0);
        vcg.PricesPerClick[0].Should().BeApproximately(1.933333, 1e-6);
        vcg.PricesPerClick[2].Should().BeApproximately(2.172414, 1e-6);
        (solution.Welfare - (3 * solution.ClickProbabilities[0])).Should().BeApproximately(0.923077, 1e-6);
        (solution.Welfare - (4 * solution.ClickProbabilities[2])).Should().BeApproximately(1.153846, 1e-6);

        MnlAuction.Welfare(WeightsA, ValuesA, new[] { 0, -1, -1 }).Should().BeApproximately(1.5, 1e-12);
        MnlAuction.Welfare(WeightsA, ValuesA, new[] { -1, -1, 1 }).Should().BeApproximately(1.5, 1e-12);
        MnlAuction.Welfare(WeightsA, ValuesA, new[] { 0, 1, -1 }).Should().BeApproximately(1.655172, 1e-6);
    }

    [Fact]
    public void Example_A_payments_equal_the_Myerson_integral()
    {
        var vcg = MnlAuction.VcgPayments(WeightsA, ValuesA, 2);
        foreach (int ad in new[] { 0, 2 })
        {
            // t_i = v_i·π_i(v) − ∫_0^{v_i} π_i(z, v_{−i}) dz, midpoint rule with 20 000 points.
            const int points = 20_000;
            double h = ValuesA[ad] / points;
            double integral = 0;
            var values = (double[])ValuesA.Clone();
            for (int k = 0; k < points; k++)
            {
                values[ad] = (k + 0.5) * h;
                integral += MnlAuction.SolveWelfare(WeightsA, values, 2).ClickProbabilities[ad] * h;
            }

            double myerson = (ValuesA[ad] * vcg.Solution.ClickProbabilities[ad]) - integral;
            myerson.Should().BeApproximately(vcg.Payments[ad], 1e-5, $"ad {ad}");
        }
    }

    [Fact]
    public void Example_B_matching_beats_ranking()
    {
        var w = new double[,] { { 1.0, 0.9 }, { 0.95, 0.1 } };
        var v = new double[] { 1, 1 };
        MnlAuction.Welfare(w, v, new[] { 0, 1 }).Should().BeApproximately(0.523810, 1e-6);
        var vcg = MnlAuction.VcgPayments(w, v, 2);
        vcg.Solution.SlotOfAd.Should().Equal(1, 0);
        vcg.Solution.Welfare.Should().BeApproximately(0.649123, 1e-6);
        vcg.Payments[0].Should().BeApproximately(0.153846, 1e-6);
        vcg.PricesPerClick[0].Should().BeApproximately(0.487179, 1e-6);
        vcg.Solution.ClickProbabilities[0].Should().BeApproximately(0.315789, 1e-6);
        vcg.Payments[1].Should().BeApproximately(0.184211, 1e-6);
        vcg.PricesPerClick[1].Should().BeApproximately(0.552632, 1e-6);
        vcg.Solution.ClickProbabilities[1].Should().BeApproximately(0.333333, 1e-6);
    }

    [Fact]
    public void Example_C_showing_fewer_ads_is_better()
    {
        var w = new double[,] { { 1, 1 }, { 1, 1 } };
        var v = new[] { 3, 0.1 };
        var solution = MnlAuction.SolveWelfare(w, v, 2);
        solution.SlotOfAd.Should().Equal(0, -1);
        solution.Welfare.Should().BeApproximately(1.5, 1e-12);
        MnlAuction.Welfare(w, v, new[] { 0, 1 }).Should().BeApproximately(1.033333, 1e-6);
    }

    [Fact]
    public void Edge_cases()
    {
        var none = MnlAuction.SolveWelfare(WeightsA, ValuesA, 0);
        none.SlotOfAd.Should().Equal(-1, -1, -1);
        none.Welfare.Should().Be(0);
        none.OutsideProbability.Should().Be(1);
        var zero = MnlAuction.VcgPayments(WeightsA, new double[3], 2);
        zero.Solution.Welfare.Should().Be(0);
        zero.Payments.Should().Equal(0, 0, 0);

        // A larger outside weight lowers every click probability; the optimum may show more ads.
        var strong = MnlAuction.SolveWelfare(WeightsA, ValuesA, 2, outsideWeight: 5);
        strong.Welfare.Should().BeLessThan(2.7 / 1.3);
        strong.ClickProbabilities.Sum().Should().BeApproximately(1 - strong.OutsideProbability, 1e-15);

        // Disallowed pairs (w = 0) are never used.
        var w = new double[,] { { 0, 1 }, { 0, 2 } };
        var s = MnlAuction.SolveWelfare(w, new double[] { 5, 1 }, 2);
        s.SlotOfAd.Count(j => j == 0).Should().Be(0);
    }

    [Theory]
    [InlineData(4, 3, 3, 300, 11)]
    [InlineData(6, 4, 5, 700, 12)]
    public void Welfare_allocation_and_VCG_payments_equal_brute_force(int maxAdvertisers, int maxSlots, int maxK, int instances, int seed)
    {
        var rng = new Random(seed);
        for (int instance = 0; instance < instances; instance++)
        {
            int n = rng.Next(1, maxAdvertisers + 1), m = rng.Next(1, maxSlots + 1), k = rng.Next(0, maxK + 1);
            var w = new double[n, m];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < m; j++)
                {
                    w[i, j] = rng.Next(8) == 0 ? 0 : 0.05 + (rng.NextDouble() * 1.95);
                }
            }

            var v = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 5).ToArray();
            double outside = instance % 3 == 0 ? 1 : 0.2 + (rng.NextDouble() * 2.8);
            string because = $"instance {instance}: n {n}, m {m}, K {k}, w0 {outside}";

            var vcg = MnlAuction.VcgPayments(w, v, k, outside);
            var (best, welfare) = BruteForce(w, v, k, outside, excluded: -1);
            vcg.Solution.Welfare.Should().BeApproximately(welfare, 1e-9, because);
            vcg.Solution.SlotOfAd.Should().Equal(best, because);
            for (int i = 0; i < n; i++)
            {
                double expected = 0;
                if (best[i] >= 0)
                {
                    double pi = w[i, best[i]] / (outside + Enumerable.Range(0, n).Where(a => best[a] >= 0).Sum(a => w[a, best[a]]));
                    vcg.Solution.ClickProbabilities[i].Should().BeApproximately(pi, 1e-12, because);
                    expected = BruteForce(w, v, k, outside, excluded: i).Welfare - (welfare - (v[i] * pi));
                    vcg.Payments[i].Should().BeInRange(-1e-9, (v[i] * pi) + 1e-9, "individual rationality, " + because);
                }

                vcg.Payments[i].Should().BeApproximately(expected, 1e-9, because);
            }
        }
    }

    [Fact]
    public void Assignment_is_the_best_matching_with_at_most_K_edges()
    {
        var rng = new Random(13);
        for (int instance = 0; instance < 400; instance++)
        {
            int n = rng.Next(1, 7), m = rng.Next(1, 6), k = rng.Next(0, 7);
            var c = new double[n, m];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < m; j++)
                {
                    c[i, j] = rng.Next(4) == 0 ? 0 : rng.NextDouble();
                }
            }

            var matching = Assignment.MaxWeightAtMostK(c, k);
            matching.Count(j => j >= 0).Should().BeLessThanOrEqualTo(k);
            matching.Where(j => j >= 0).Should().OnlyHaveUniqueItems();
            double weight = 0;
            for (int i = 0; i < n; i++)
            {
                if (matching[i] >= 0)
                {
                    c[i, matching[i]].Should().BePositive();
                    weight += c[i, matching[i]];
                }
            }

            double best = Matchings(n, m, k).Max(x => Enumerable.Range(0, n).Where(i => x[i] >= 0).Sum(i => c[i, x[i]]));
            weight.Should().BeApproximately(best, 1e-12, $"instance {instance}");
        }
    }

    [Fact]
    public void Invalid_input()
    {
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { -1 } }, new double[] { 1 }, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weights");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { double.PositiveInfinity } }, new double[] { 1 }, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weights");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { double.NaN } }, new double[] { 1 }, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weights");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { 1 } }, new double[] { -1 }, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("values");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { 1 } }, new double[] { 1 }, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxAds");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { 1 } }, new double[] { 1 }, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outsideWeight");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[,] { { 1 } }, new double[] { 1, 2 }, 1)).Should().Throw<ArgumentException>().WithParameterName("values");
        FluentActions.Invoking(() => MnlAuction.SolveWelfare(new double[0, 2], Array.Empty<double>(), 1)).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => MnlAuction.Welfare(WeightsA, ValuesA, new[] { 0, 0, -1 })).Should().Throw<ArgumentException>().WithParameterName("slotOfAd");
        FluentActions.Invoking(() => Assignment.MaxWeightAtMostK(new double[,] { { 1 } }, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxEdges");
    }

    /// <summary>The welfare-maximising allocation by enumerating every feasible matching; the first strict maximum wins.</summary>
    private static (int[] Best, double Welfare) BruteForce(double[,] w, double[] v, int k, double outside, int excluded)
    {
        int n = w.GetLength(0), m = w.GetLength(1);
        int[] best = Enumerable.Repeat(-1, n).ToArray();
        double bestWelfare = 0;
        foreach (var x in Matchings(n, m, k))
        {
            bool allowed = true;
            double numerator = 0, denominator = outside;
            for (int i = 0; i < n; i++)
            {
                if (x[i] >= 0)
                {
                    allowed &= i != excluded && w[i, x[i]] > 0;
                    numerator += w[i, x[i]] * v[i];
                    denominator += w[i, x[i]];
                }
            }

            if (allowed && numerator / denominator > bestWelfare)
            {
                bestWelfare = numerator / denominator;
                best = x;
            }
        }

        return (best, bestWelfare);
    }

    private static List<int[]> Matchings(int n, int m, int k)
    {
        var x = Enumerable.Repeat(-1, n).ToArray();
        var used = new bool[m];
        var all = new List<int[]>();
        void Recurse(int i, int size)
        {
            if (i == n)
            {
                all.Add((int[])x.Clone());
                return;
            }

            x[i] = -1;
            Recurse(i + 1, size);
            if (size == k)
            {
                return;
            }

            for (int j = 0; j < m; j++)
            {
                if (!used[j])
                {
                    used[j] = true;
                    x[i] = j;
                    Recurse(i + 1, size + 1);
                    used[j] = false;
                    x[i] = -1;
                }
            }
        }

        Recurse(0, 0);
        return all;
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Diffusion;
using Logits.Randomness;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>Plackett–Luce (docs/algorithms/discrete-diffusion.md#plackett-luce), DCoLT's unmasking policy and group advantages; host-only float64 math, no backend.</summary>
public sealed class PlackettLuceTests
{
    private static readonly double[] H1 = { 2, 1, 0, -1 };
    private static readonly double[] H2 = { 1, 2, 0.5, -1 };

    public static TheoryData<double[], bool[]?, int[], double, double, double[]> SpecRows() => new()
    {
        { H1, null, new[] { 0, 2 }, -1.847796, 0.157584, new[] { 0.356086, -0.902124, 0.668127, -0.122089 } },
        { H1, null, new[] { 2, 0 }, -2.789202, 0.061470, new[] { -0.349299, -0.496379, 0.912856, -0.067178 } },
        { H2, null, new[] { 1, 0 }, -1.050139, 0.349889, new[] { 0.201695, 0.390540, -0.484196, -0.108039 } },
        { H2, null, new[] { 0, 1 }, -1.736493, 0.176137, new[] { 0.775792, -0.395057, -0.311279, -0.069456 } },
        { H2, null, new[] { 1, 0, 2, 3 }, -1.251552, 0.286060, new[] { 0.201695, 0.390540, -0.301771, -0.290464 } },
        { H2, new[] { true, true, true, false }, new[] { 1, 0 }, -0.938446, 0.391235, new[] { 0.146317, 0.371468, -0.517785, 0 } },
    };

    [Theory]
    [MemberData(nameof(SpecRows))]
    public void Spec_vectors(double[] h, bool[]? candidates, int[] order, double logP, double p, double[] gradient)
    {
        double actual = PlackettLuce.LogProbability(h, candidates, order);
        actual.Should().BeApproximately(logP, 1e-6);
        Math.Exp(actual).Should().BeApproximately(p, 1e-6);
        var g = new double[h.Length];
        PlackettLuce.Gradient(h, candidates, order, g);
        for (int j = 0; j < h.Length; j++)
        {
            g[j].Should().BeApproximately(gradient[j], 1e-6);
        }

        g.Sum().Should().BeApproximately(0, 1e-12);
        ReferenceLogProbability(h, candidates, order).Should().BeApproximately(actual, 1e-12);
    }

    [Fact]
    public void Further_checks()
    {
        Math.Exp(PlackettLuce.LogProbability(H1, new[] { 0 })).Should().BeApproximately(0.643914, 1e-6);
        Math.Exp(PlackettLuce.LogProbability(H1, new[] { 0, 2 }) - PlackettLuce.LogProbability(H1, new[] { 0 })).Should().BeApproximately(0.244728, 1e-6);
        (Math.Exp(PlackettLuce.LogProbability(H1, new[] { 0, 2 })) + Math.Exp(PlackettLuce.LogProbability(H1, new[] { 2, 0 }))).Should().BeApproximately(0.219054, 1e-6);
        (Math.Exp(PlackettLuce.LogProbability(H2, new[] { 0, 1 })) + Math.Exp(PlackettLuce.LogProbability(H2, new[] { 1, 0 }))).Should().BeApproximately(0.526026, 1e-6);
        PlackettLuce.LogProbability(H2, new[] { true, true, true, false }, new[] { 1, 0, 2 }).Should().BeApproximately(-0.938446, 1e-6);
        PlackettLuce.LogProbability(H2.Select(x => x + 100).ToArray(), new[] { 1, 0 }).Should().BeApproximately(-1.050139, 1e-6);
        double scaled = PlackettLuce.LogProbability(H2.Select(x => x * 1000).ToArray(), new[] { 1, 0 });
        double.IsFinite(scaled).Should().BeTrue();
        scaled.Should().BeApproximately(0, 1e-6);
        PlackettLuce.StepLogProbability(H1, null, new[] { 0, 2 }, forcedFinal: true).Should().Be(0);
        PlackettLuce.LogProbability(H1, Array.Empty<int>()).Should().Be(0);
        PlackettLuce.LogProbability(new[] { 0.0, double.NegativeInfinity, 1.0 }, new[] { 2, 0 }).Should().BeApproximately(Math.Log(Math.E / (1 + Math.E)), 1e-12, "−∞ is not a candidate");
    }

    [Fact]
    public void All_orderings_sum_to_one()
    {
        var rng = new Random(5);
        foreach (int n in new[] { 1, 2, 3, 4, 5 })
        {
            var h = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 6) - 3).ToArray();
            for (int k = 0; k <= n; k++)
            {
                double total = Permutations(n, k).Sum(order => Math.Exp(PlackettLuce.LogProbability(h, order)));
                total.Should().BeApproximately(1, 1e-12, $"n = {n}, K = {k}");
            }
        }

        Permutations(4, 2).Sum(o => Math.Exp(PlackettLuce.LogProbability(H1, o))).Should().BeApproximately(1, 1e-12);
        Permutations(4, 4).Sum(o => Math.Exp(PlackettLuce.LogProbability(H2, o))).Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Gradient_matches_finite_differences()
    {
        var rng = new Random(9);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = 2 + rng.Next(7);
            var h = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 8) - 4).ToArray();
            var candidates = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.8).ToArray();
            var pool = Enumerable.Range(0, n).Where(j => candidates[j]).OrderBy(_ => rng.Next()).ToArray();
            var order = pool.Take(rng.Next(pool.Length + 1)).ToArray();
            var g = new double[n];
            PlackettLuce.Gradient(h, candidates, order, g);
            for (int j = 0; j < n; j++)
            {
                const double Step = 1e-6;
                var plus = (double[])h.Clone();
                var minus = (double[])h.Clone();
                plus[j] += Step;
                minus[j] -= Step;
                double fd = (PlackettLuce.LogProbability(plus, candidates, order) - PlackettLuce.LogProbability(minus, candidates, order)) / (2 * Step);
                g[j].Should().BeApproximately(fd, 1e-7);
            }
        }
    }

    [Fact]
    public void Gumbel_top_k_injected_uniforms()
    {
        var order = new int[2];
        PlackettLuce.SampleGumbelTopK(H2, null, 2, new[] { 0.5, 0.3, 0.95, 0.1 }, order);
        order.Should().Equal(2, 1);
        PlackettLuce.TopK(H2, null, 2, order);
        order.Should().Equal(1, 0);
        PlackettLuce.TopK(new[] { 1.0, 3, 3, 0 }, null, 3, new int[3].AsSpan());
        var tie = new int[3];
        PlackettLuce.TopK(new[] { 1.0, 3, 3, 0 }, null, 3, tie);
        tie.Should().Equal(1, 2, 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sampling_frequencies_pass_chi_square(bool sequential)
    {
        const int Draws = 200_000;
        var outcomes = Permutations(4, 2).ToList();
        var index = outcomes.Select((o, i) => (o, i)).ToDictionary(x => (x.o[0] * 4) + x.o[1], x => x.i);
        var counts = new long[outcomes.Count];
        var rng = new Xoshiro256StarStar(2024);
        var order = new int[2];
        for (int d = 0; d < Draws; d++)
        {
            if (sequential)
            {
                PlackettLuce.SampleSequential(H2, null, 2, rng, order);
            }
            else
            {
                PlackettLuce.SampleGumbelTopK(H2, null, 2, rng, order);
            }

            counts[index[(order[0] * 4) + order[1]]]++;
        }

        var law = outcomes.Select(o => Math.Exp(PlackettLuce.LogProbability(H2, o))).ToArray();
        var test = ChiSquare.Test(counts, law);
        test.Rejects(1e-3).Should().BeFalse(test.ToString());

        // Reference targets within 4 standard errors.
        var targets = new Dictionary<(int, int), double> { [(1, 0)] = 0.349889, [(0, 1)] = 0.176137, [(1, 2)] = 0.212219, [(2, 1)] = 0.095924, [(0, 2)] = 0.039301, [(1, 3)] = 0.047352 };
        foreach (var ((a, b), p) in targets)
        {
            double f = (double)counts[index[(a * 4) + b]] / Draws;
            f.Should().BeApproximately(p, 4 * Math.Sqrt(p * (1 - p) / Draws));
        }

        // A deliberately wrong law (the top-2 of unperturbed scores reversed) is rejected.
        var wrong = (double[])law.Clone();
        (wrong[index[4]], wrong[index[1]]) = (wrong[index[1]], wrong[index[4]]);
        ChiSquare.Test(counts, wrong).Rejects(1e-3).Should().BeTrue();
    }

    [Fact]
    public void Candidate_mask()
    {
        var mask = new bool[6];
        PlackettLuce.CandidateMask(new[] { 5, 9, 9, 1, 9, 9 }, 9, 1, 3, mask).Should().Be(2);
        mask.Should().Equal(false, true, true, false, false, false);
    }

    [Fact]
    public void Invalid_inputs()
    {
        FluentActions.Invoking(() => PlackettLuce.LogProbability(new[] { 0.0, double.NaN }, new[] { 0 })).Should().Throw<InvalidLogitsException>();
        FluentActions.Invoking(() => PlackettLuce.LogProbability(new[] { 0.0, double.PositiveInfinity }, new[] { 0 })).Should().Throw<InvalidLogitsException>();
        FluentActions.Invoking(() => PlackettLuce.LogProbability(H1, new[] { 4 })).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("order");
        FluentActions.Invoking(() => PlackettLuce.LogProbability(H1, new[] { 1, 1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("order");
        FluentActions.Invoking(() => PlackettLuce.LogProbability(H1, new[] { true, false, true, true }, new[] { 1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("order");
        FluentActions.Invoking(() => PlackettLuce.TopK(H1, null, 5, new int[5])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("count");
        FluentActions.Invoking(() => PlackettLuce.TopK(new[] { double.NegativeInfinity }, null, 1, new int[1])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("candidates");
        FluentActions.Invoking(() => PlackettLuce.SampleGumbelTopK(H1, null, 2, new[] { 0.5, 0.5 }, new int[2])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("uniforms");
        FluentActions.Invoking(() => PlackettLuce.SampleGumbelTopK(H1, null, 2, new[] { 0.5, 0.5, 1.0, 0.5 }, new int[2])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("uniforms");
    }

    [Fact]
    public void Dcolt_action_log_probability_vector()
    {
        // Rows: token 0 has probability 0.7 at position 0 and 0.4 at position 2 (mask id 2 is excluded from the softmax).
        var policy = new DcoltUnmaskingPolicy(4, 4, 2);
        var logits = new float[]
        {
            (float)Math.Log(0.7), (float)Math.Log(0.3), 9,
            0, 0, 9,
            (float)Math.Log(0.4), (float)Math.Log(0.6), 9,
            0, 0, 9,
        };
        var before = new[] { 2, 2, 2, 2 };
        var recorded = new DcoltAction(new[] { 0, 2 }, new[] { 0, 0 }, 0, 0);
        policy.LogProbability(before, 0, 2, 0, H1, logits, 3, recorded).Should().BeApproximately(-1.847796 + -1.272966, 1e-6);
        policy.LogProbability(before, 0, 2, 0, H1, logits, 3, recorded).Should().BeApproximately(-3.120761, 1e-6);

        // Inference: top-2 of scores picking (0, 2), argmax tokens (0 with 0.7, 1 with 0.6).
        var tokens = (int[])before.Clone();
        var action = policy.Act(tokens, 0, 2, 0, new[] { 2.0, -5, 1, -6 }, logits, 3, random: null);
        action.Positions.ToArray().Should().Equal(0, 2);
        action.Tokens.ToArray().Should().Equal(0, 1);
        tokens.Should().Equal(0, 2, 1, 2);
        action.TokenLogProbability.Should().BeApproximately(Math.Log(0.7) + Math.Log(0.6), 1e-6);
        action.LogProbability.Should().BeApproximately(PlackettLuce.LogProbability(new[] { 2.0, -5, 1, -6 }, new[] { 0, 2 }) + action.TokenLogProbability, 1e-12);
    }

    [Fact]
    public void Dcolt_rollout_is_consistent_and_final_step_is_forced()
    {
        var policy = new DcoltUnmaskingPolicy(4, 2, 4);
        var rng = new Xoshiro256StarStar(3);
        var logits = Enumerable.Range(0, 5 * 4).Select(i => (float)Math.Sin(i)).ToArray();
        var scores = new[] { 0.3, -0.2, 1.1, 0.4, -0.7 };
        var tokens = new[] { 1, 3, 3, 3, 3 };
        for (int step = 0; step < 4; step++)
        {
            var before = (int[])tokens.Clone();
            var action = policy.Act(tokens, 1, 3, step, scores, logits, 4, rng);
            action.Positions.Length.Should().Be(1);
            policy.LogProbability(before, 1, 3, step, scores, logits, 4, action).Should().BeApproximately(action.LogProbability, 1e-12);
            if (policy.IsForcedFinal(step))
            {
                action.SelectionLogProbability.Should().Be(0);
            }

            int position = action.Positions.Span[0];
            position.Should().BeInRange(1 + (step / 2 * 2), 2 + (step / 2 * 2), "the candidate lies in the current block");
            tokens[position].Should().Be(action.Tokens.Span[0]).And.NotBe(3);
        }

        tokens.Should().NotContain(3);
        FluentActions.Invoking(() => new DcoltUnmaskingPolicy(4, 2, 4, temperature: 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("temperature");
        FluentActions.Invoking(() => policy.Quota(4)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
    }

    [Theory]
    [InlineData(new[] { 1.0, 0, 0, 1 }, new[] { 0.865875, -0.865875, -0.865875, 0.865875 })]
    [InlineData(new[] { 1.0, 0, 0, 0, 0, 0, 0, 0 }, new[] { 2.474174, -0.353453, -0.353453, -0.353453, -0.353453, -0.353453, -0.353453, -0.353453 })]
    public void Group_normalised_advantages(double[] rewards, double[] expected)
    {
        var a = new double[rewards.Length];
        Advantage.GroupNormalise(rewards, a);
        for (int i = 0; i < a.Length; i++)
        {
            a[i].Should().BeApproximately(expected[i], 2e-6);
        }

        FluentActions.Invoking(() => Advantage.GroupNormalise(new[] { 1.0 }, new double[1])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("rewards");
        FluentActions.Invoking(() => Advantage.GroupNormalise(rewards, a, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("epsilon");
    }

    private static double ReferenceLogProbability(double[] h, bool[]? candidates, int[] order)
    {
        // Sequential definition, literally: softmax over the remaining candidates at each pick.
        var remaining = Enumerable.Range(0, h.Length).Where(j => candidates is null || candidates[j]).ToList();
        double logP = 0;
        foreach (int s in order)
        {
            double z = remaining.Sum(j => Math.Exp(h[j]));
            logP += Math.Log(Math.Exp(h[s]) / z);
            remaining.Remove(s);
        }

        return logP;
    }

    private static IEnumerable<int[]> Permutations(int n, int k)
    {
        if (k == 0)
        {
            yield return Array.Empty<int>();
            yield break;
        }

        foreach (var prefix in Permutations(n, k - 1))
        {
            for (int j = 0; j < n; j++)
            {
                if (!prefix.Contains(j))
                {
                    yield return prefix.Append(j).ToArray();
                }
            }
        }
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Diffusion;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>RADD's cached τ-leaping sampler against the exact oracle (docs/algorithms/discrete-diffusion.md#radd), on every backend.</summary>
public abstract class RaddSamplerTests
{
    private const int Draws = 100_000;
    private const double Alpha = 1e-3;

    /// <summary>Creates a batch on the backend under test (the oracle returns its rows through it).</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private MarkovChainOracle Oracle(bool product = false, int length = 4) => new(Create, length, product);

    [Fact]
    public void Oracle_spec_vectors()
    {
        var o = Oracle();
        const int M = 3;
        void Check(int[] x, int position, double c0, double c1, double c2)
        {
            var c = o.Conditionals(x);
            c[(position * 3) + 0].Should().BeApproximately(c0, 1e-6);
            c[(position * 3) + 1].Should().BeApproximately(c1, 1e-6);
            c[(position * 3) + 2].Should().BeApproximately(c2, 1e-6);
        }

        Check(new[] { M, M, M, M }, 0, 0.5, 0.3, 0.2);
        Check(new[] { M, M, M, M }, 3, 0.338650, 0.387500, 0.273850);
        Check(new[] { M, 1, M, M }, 0, 0.285714, 0.600000, 0.114286);
        Check(new[] { M, 1, M, M }, 2, 0.15, 0.7, 0.15);
        Check(new[] { 0, M, M, 2 }, 1, 0.548387, 0.207373, 0.244240);
        Check(new[] { 0, M, M, 2 }, 2, 0.244240, 0.207373, 0.548387);
        Check(new[] { 2, M, 0, M }, 1, 0.411765, 0.176471, 0.411765);
        Check(new[] { 2, M, 0, M }, 3, 0.7, 0.2, 0.1);
        var p = o.Law();
        p.Sum().Should().BeApproximately(1, 1e-12);
        p[MarkovChainOracle.Encode(new[] { 0, 0, 0, 0 })].Should().BeApproximately(0.1715, 1e-9);
        p[MarkovChainOracle.Encode(new[] { 0, 2, 0, 2 })].Should().BeApproximately(0.0005, 1e-9);
        p.Min().Should().BeApproximately(0.0002, 1e-9);
    }

    [Theory]
    [InlineData(1, 0.504295, 0.824007, 0.025754, 0.015320)]
    [InlineData(2, 0.253833, 0.196106, 0.082790, 0.005717)]
    [InlineData(4, 0.128089, 0.052924, 0.123433, 0.003105)]
    [InlineData(8, 0.064532, 0.014324, 0.146569, 0.002198)]
    [InlineData(16, 0.032434, 0.003794, 0.158814, 0.001825)]
    [InlineData(64, 0.008138, 0.000251, 0.168288, 0.001577)]
    public void Dynamic_program_matches_spec_table(int n, double tv, double kl, double q0000, double q0120)
    {
        var o = Oracle();
        var p = o.Law();
        var q = ExactLaws.Radd(o, n);
        ExactLaws.TotalVariation(q, p).Should().BeApproximately(tv, 1e-6);
        p.Select((pi, i) => pi * Math.Log(pi / q[i])).Sum().Should().BeApproximately(kl, 1e-6);
        q[MarkovChainOracle.Encode(new[] { 0, 0, 0, 0 })].Should().BeApproximately(q0000, 1e-6);
        q[MarkovChainOracle.Encode(new[] { 0, 1, 2, 0 })].Should().BeApproximately(q0120, 1e-6);
    }

    [Theory]
    [InlineData(1, RaddUpdate.Tweedie)]
    [InlineData(4, RaddUpdate.Tweedie)]
    [InlineData(16, RaddUpdate.Euler)]
    public void Product_variant_samples_the_data_law(int n, RaddUpdate method)
    {
        // Case B: independent tokens, so revealing several positions at once is exact.
        var o = Oracle(product: true);
        var result = new RaddSampler(n, method: method).Sample(o, Draws, 4, seed: 1234);
        var counts = ExactLaws.Counts(result.Tokens, 4);
        var p = o.Law();
        var test = ChiSquare.Test(counts, p);
        test.Rejects(Alpha).Should().BeFalse(test.ToString());
        ExactLaws.TotalVariation(counts.Select(c => (double)c / Draws).ToArray(), p).Should().BeLessThan(ExactLaws.TvNoiseThreshold(p, Draws));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void Markov_chain_samples_the_computed_law_q_n(int n)
    {
        // Case C: the factorisation error is predicted exactly by the dynamic program.
        var o = Oracle();
        var result = new RaddSampler(n).Sample(o, Draws, 4, seed: 99);
        var counts = ExactLaws.Counts(result.Tokens, 4);
        var test = ChiSquare.Test(counts, ExactLaws.Radd(o, n));
        test.Rejects(Alpha).Should().BeFalse(test.ToString());

        // Power: the data law p is the wrong hypothesis here and must be rejected (non-centrality ≈ 3395 at n = 8).
        ChiSquare.Test(counts, o.Law()).Rejects(Alpha).Should().BeTrue();
        o.Calls.Should().Be(result.TotalFunctionEvaluations);
    }

    [Fact]
    public void Ordered_sampler_samples_the_data_law()
    {
        // Case A1: one position per step in a uniformly random order is exact for any data law.
        var o = Oracle();
        var result = new OrderedSampler().Sample(o, Enumerable.Repeat(3, Draws * 4).ToArray(), Draws, seed: 31);
        var counts = ExactLaws.Counts(result.Tokens, 4);
        var p = o.Law();
        var test = ChiSquare.Test(counts, p);
        test.Rejects(Alpha).Should().BeFalse(test.ToString());
        ExactLaws.TotalVariation(counts.Select(c => (double)c / Draws).ToArray(), p).Should().BeLessThan(ExactLaws.TvNoiseThreshold(p, Draws));
        result.FunctionEvaluations.Should().OnlyContain(e => e == 4);

        var ordered = new OrderedSampler().Sample(o, Enumerable.Repeat(3, 8).ToArray(), 2, new[] { 3, 1, 0, 2 }, seed: 1);
        ordered.RevealSteps.Should().Equal(2, 1, 3, 0, 2, 1, 3, 0);
        FluentActions.Invoking(() => new OrderedSampler().Sample(o, new[] { 3, 3, 3, 3 }, 1, new[] { 0, 0, 1, 2 }, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("order");
    }

    [Fact]
    public void Nfe_law_matches_occupied_bins_and_equals_steps_with_a_reveal()
    {
        const int Runs = 10_000;
        foreach (bool product in new[] { false, true })
        {
            var o = Oracle(product);
            var result = new RaddSampler(8).Sample(o, Runs, 4, seed: 7);
            var histogram = new long[4];
            for (int b = 0; b < Runs; b++)
            {
                int distinctSteps = result.RevealSteps.AsSpan(b * 4, 4).ToArray().Distinct().Count();
                result.FunctionEvaluations[b].Should().Be(distinctSteps);
                histogram[result.FunctionEvaluations[b] - 1]++;
            }

            var test = ChiSquare.Test(histogram, new[] { 0.001953125, 0.095703125, 0.4921875, 0.41015625 });
            test.Rejects(Alpha).Should().BeFalse(test.ToString());
            result.FunctionEvaluations.Average().Should().BeApproximately(3.310547, 0.032);
            result.TotalFunctionEvaluations.Should().Be(result.FunctionEvaluations.Sum());
            o.Calls.Should().Be(result.TotalFunctionEvaluations);
        }
    }

    [Fact]
    public void Padded_chain_mean_nfe()
    {
        var result = new RaddSampler(4).Sample(Oracle(length: 8), 10_000, 8, seed: 5);
        result.FunctionEvaluations.Average().Should().BeApproximately(3.599548, 5 * Math.Sqrt(0.286965 / 10_000));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(4096)]
    public void Measured_nfe_matches_expected_nfe_for_128_tokens(int n)
    {
        const int Runs = 64;
        var model = new FixedRowDenoiser(Create, 0f, -1f);
        var result = new RaddSampler(n).Sample(model, Runs, 128, seed: (ulong)n);
        double mean = result.FunctionEvaluations.Average();
        mean.Should().BeApproximately(RaddNfe.Expected(n, 128), 0.03 * RaddNfe.Expected(n, 128));
        model.Calls.Should().Be(result.TotalFunctionEvaluations);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    public void Caching_does_not_change_the_output(int n)
    {
        var cachedModel = Oracle();
        var uncachedModel = Oracle();
        var cached = new RaddSampler(n).Sample(cachedModel, 2000, 4, seed: 3);
        var uncached = new RaddSampler(n, caching: false).Sample(uncachedModel, 2000, 4, seed: 3);
        cached.Tokens.Should().Equal(uncached.Tokens);
        cached.RevealSteps.Should().Equal(uncached.RevealSteps);
        uncached.FunctionEvaluations.Should().OnlyContain(e => e == n);
        cached.FunctionEvaluations.Should().OnlyContain(e => e <= Math.Min(n, 4));
        uncachedModel.Calls.Should().Be(2000L * n);
    }

    [Fact]
    public void Pre_drawn_uniforms_reproduce_the_seeded_run()
    {
        const int Sequences = 5;
        var initial = Enumerable.Repeat(3, Sequences * 4).ToArray();
        initial[1] = 1;
        var seeded = new RaddSampler(6).Sample(Oracle(), initial, Sequences, seed: 11);
        var uniforms = new List<ReadOnlyMemory<double>>();
        for (int b = 0; b < Sequences; b++)
        {
            var rng = Xoshiro256StarStar.ForRow(11, b);
            uniforms.Add(Enumerable.Range(0, 400).Select(_ => rng.NextOpenDouble()).ToArray());
        }

        var predrawn = new RaddSampler(6, caching: false).Sample(Oracle(), initial, uniforms);
        predrawn.Tokens.Should().Equal(seeded.Tokens);
        seeded.Tokens[1].Should().Be(1, "real tokens of the initial state are kept");
        seeded.RevealSteps[1].Should().Be(-1);

        var streams = Enumerable.Range(0, Sequences).Select(b => (IRandomSource)Xoshiro256StarStar.ForRow(11, b)).ToList();
        new RaddSampler(6).Sample(Oracle(), initial, streams).Tokens.Should().Equal(seeded.Tokens);
    }

    [Fact]
    public void Each_sequence_of_a_batch_is_its_own_run()
    {
        var batch = new RaddSampler(8).Sample(Oracle(), 6, 4, seed: 21);
        for (int b = 0; b < 6; b++)
        {
            var single = new RaddSampler(8).Sample(Oracle(), Enumerable.Repeat(3, 4).ToArray(), new[] { (IRandomSource)Xoshiro256StarStar.ForRow(21, b) });
            single.Tokens.Should().Equal(batch.Sequence(b).ToArray());
            single.FunctionEvaluations[0].Should().Be(batch.FunctionEvaluations[b]);
        }
    }

    [Fact]
    public void Single_step_by_hand()
    {
        // One step, r = 1: both reveal uniforms are drawn, then the races over the first-position row ln(0.5, 0.3, 0.2).
        // Race uniforms (0.3, 0.8, 0.6): -ln E = ln(1/1.203973) etc.; ln 0.3 - ln 0.223144 wins -> token 1.
        var predrawn = new[] { (ReadOnlyMemory<double>)new[] { 0.5, 0.5, 0.3, 0.8, 0.6, 0.3, 0.8, 0.6 } };
        var result = new RaddSampler(1).Sample(Oracle(product: true, length: 2), new[] { 3, 3 }, predrawn);
        result.Tokens.Should().Equal(1, 1);
        FluentActions.Invoking(() => new RaddSampler(1).Sample(Oracle(product: true, length: 2), new[] { 3, 3 }, new[] { (ReadOnlyMemory<double>)new[] { 0.5, 0.5, 0.3 } }))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("uniforms");
        FluentActions.Invoking(() => new RaddSampler(1).Sample(Oracle(product: true, length: 2), new[] { 3, 3 }, new[] { (ReadOnlyMemory<double>)new[] { 0.5, 1.0 } }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("uniforms");
    }

    public static TheoryData<string, double[]> ProcessorCases() => new()
    {
        // softmax(ln(0.5, 0.3, 0.2) / 0.5) = (25, 9, 4)/38.
        { "temperature 0.5", new[] { 25 / 38.0, 9 / 38.0, 4 / 38.0 } },
        { "top-k 2", new[] { 0.625, 0.375, 0 } },
        { "top-p 0.6", new[] { 0.625, 0.375, 0 } },
        { "top-k 1", new[] { 1.0, 0, 0 } },
    };

    [Theory]
    [MemberData(nameof(ProcessorCases))]
    public void Standard_processors_apply_to_the_per_position_distributions(string name, double[] expected)
    {
        ILogitProcessor processor = name switch
        {
            "temperature 0.5" => new TemperatureProcessor(0.5f),
            "top-k 2" => new TopKProcessor(2),
            "top-p 0.6" => new TopPProcessor(0.6),
            _ => new TopKProcessor(1),
        };
        const int Sequences = 20_000;
        var result = new RaddSampler(4, processors: new[] { processor }).Sample(Oracle(product: true), Sequences, 4, seed: 8);
        var counts = new long[3];
        foreach (int t in result.Tokens)
        {
            counts[t]++;
        }

        var test = ChiSquare.Test(counts, expected);
        test.Rejects(Alpha).Should().BeFalse($"{name}: {test}");
    }

    [Fact]
    public void Invalid_model_output_and_input()
    {
        var nan = new FixedRowDenoiser(Create, 0f, float.NaN);
        FluentActions.Invoking(() => new RaddSampler(2).Sample(nan, 1, 3, 0)).Should().Throw<InvalidLogitsException>();
        var dead = new FixedRowDenoiser(Create, float.NegativeInfinity, float.NegativeInfinity);
        FluentActions.Invoking(() => new RaddSampler(2).Sample(dead, 1, 3, 0)).Should().Throw<NoViableTokenException>();
        FluentActions.Invoking(() => new RaddSampler(2).Sample(Oracle(), new[] { 0, 1, 5, 3 }, 1, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("initial");
        FluentActions.Invoking(() => new RaddSampler(2).Sample(Oracle(), new[] { 0, 1, 3 }, 2, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("initial");
        FluentActions.Invoking(() => new RaddSampler(2).Sample(Oracle(), 0, 4, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sequences");
        FluentActions.Invoking(() => new RaddSampler(2).Sample(null!, 1, 4, 0)).Should().Throw<ArgumentNullException>();
    }
}

/// <summary>The RADD sampler tests on the CPU backend.</summary>
public sealed class CpuRaddSamplerTests : RaddSamplerTests
{
    /// <inheritdoc />
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

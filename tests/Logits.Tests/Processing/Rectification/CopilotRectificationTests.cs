using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Rectification;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Rectification;

public abstract class CopilotRectificationTests : ProcessorTestBase
{
    private const double SpecTolerance = 1e-6;

    private static readonly float[] Z = { 1f, 2f, 3f };

    private float[] Fuse(float[] z, float[] f, float lambda, CopilotFusionMode mode, int rows = 1)
    {
        var source = new FixedLogitSource(f);
        using var batch = Create(z, rows, z.Length / rows);
        new CopilotRectificationProcessor(source, lambda, mode).Process(batch, SamplingContext.ForRows(rows));
        return batch.ToArray();
    }

    private static void AssertSpec(float[] actual, double[] expected, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNegativeInfinity(expected[i]))
            {
                float.IsNegativeInfinity(actual[i]).Should().BeTrue($"{what}: token {i} must be exactly -inf");
            }
            else
            {
                ((double)actual[i]).Should().BeApproximately(expected[i], 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{what}: token {i}");
            }
        }
    }

    private static double[] Exp(IEnumerable<float> logs) => logs.Select(v => Math.Exp(v)).ToArray();

    public static TheoryData<float[], float, double[], double, int, double[]> T2Rows() => new()
    {
        { new[] { 0f, 1f, 0f }, 0f, new[] { 0.090031, 0.244728, 0.665241 }, 1.0, 2, new[] { -2.407606, -1.407606, -0.407606 } },
        { new[] { 0f, 1f, 0f }, 0.5f, new[] { 0.090031, 0.744728, 0.665241 }, 1.5, 1, new[] { -2.813071, -0.700201, -0.813071 } },
        { new[] { 0f, 1f, 0f }, 1f, new[] { 0.090031, 1.244728, 0.665241 }, 2.0, 1, new[] { -3.100753, -0.474230, -1.100753 } },
        { new[] { -0.2f, 0.1f, 0.1f }, 1f, new[] { -0.109969, 0.344728, 0.765241 }, 1.0, 2, new[] { double.NegativeInfinity, -1.169331, -0.371897 } },
        { new[] { -1f, -1f, -1f }, 1f, new[] { -0.909969, -0.755272, -0.334759 }, -2.0, 2, new[] { double.NegativeInfinity, double.NegativeInfinity, 0 } },
    };

    [Theory]
    [MemberData(nameof(T2Rows))]
    public void Spec_T2_probability_fusion(float[] f, float lambda, double[] raw, double rawSum, int greedy, double[] logQ)
    {
        var processed = Fuse(Z, f, lambda, CopilotFusionMode.Probability);
        AssertSpec(processed, logQ, "processor log q");

        var fromBatch = new float[3];
        using (var pilot = Create(Z, 1, 3))
        using (var correction = Create(f, 1, 3))
        using (var destination = pilot.CreateLike())
        {
            CopilotFusion.Fuse(pilot, correction, lambda, CopilotFusionMode.Probability, destination);
            destination.CopyTo(fromBatch);
            var token = new int[1];
            destination.Kernels.ArgMax(destination, token);
            token[0].Should().Be(greedy, "greedy over the processed row selects argmax p̃");
        }

        AssertSpec(fromBatch, logQ, "batch function");

        var spanRaw = new double[3];
        CopilotFusion.FusedProbabilities(Z.Select(v => (double)v).ToArray(), f.Select(v => (double)v).ToArray(), lambda, spanRaw);
        spanRaw.Should().Equal(raw, (a, e) => Math.Abs(a - e) <= SpecTolerance);
        spanRaw.Sum().Should().BeApproximately(rawSum, SpecTolerance);
        var floatRaw = new float[3];
        CopilotFusion.FusedProbabilities(Z, f, lambda, floatRaw);
        AssertSpec(floatRaw, raw, "float raw p̃");
        CopilotFusion.GreedyToken(Z, f, lambda, CopilotFusionMode.Probability).Should().Be(greedy);
        CopilotFusion.GreedyToken(Z.Select(v => (double)v).ToArray(), f.Select(v => (double)v).ToArray(), lambda, CopilotFusionMode.Probability).Should().Be(greedy);

        var spanLog = new double[3];
        CopilotFusion.Fuse(Z.Select(v => (double)v).ToArray(), f.Select(v => (double)v).ToArray(), lambda, CopilotFusionMode.Probability, spanLog);
        for (int i = 0; i < 3; i++)
        {
            if (double.IsNegativeInfinity(logQ[i]))
            {
                spanLog[i].Should().Be(double.NegativeInfinity);
            }
            else
            {
                spanLog[i].Should().BeApproximately(logQ[i], SpecTolerance);
            }
        }
    }

    [Fact]
    public void Spec_T2_sampling_distributions()
    {
        AssertSpec(Exp(Fuse(Z, new[] { 0f, 1f, 0f }, 0.5f, CopilotFusionMode.Probability)).Select(v => (float)v).ToArray(), new[] { 0.060020, 0.496486, 0.443494 }, "q, λ = 0.5");
        AssertSpec(Exp(Fuse(Z, new[] { 0f, 1f, 0f }, 1f, CopilotFusionMode.Probability)).Select(v => (float)v).ToArray(), new[] { 0.045015, 0.622364, 0.332620 }, "q, λ = 1");
        AssertSpec(Exp(Fuse(Z, new[] { -0.2f, 0.1f, 0.1f }, 1f, CopilotFusionMode.Probability)).Select(v => (float)v).ToArray(), new[] { 0, 0.310575, 0.689425 }, "q, negative");
    }

    [Theory]
    [InlineData(new[] { 0f, 1f, 0f }, 0.5f, new[] { 1, 2.5, 3 }, new[] { 0.077696, 0.348207, 0.574097 }, 2)]
    [InlineData(new[] { 0f, 1f, 0f }, 1f, new[] { 1.0, 3, 3 }, new[] { 0.063379, 0.468311, 0.468311 }, 1)]
    [InlineData(new[] { -0.2f, 0.1f, 0.1f }, 1f, new[] { 0.8, 2.1, 3.1 }, new[] { 0.068290, 0.250575, 0.681135 }, 2)]
    public void Spec_T3_logit_fusion(float[] f, float lambda, double[] fused, double[] softmax, int greedy)
    {
        var processed = Fuse(Z, f, lambda, CopilotFusionMode.Logit);
        AssertSpec(processed, fused, "z̃");
        AssertSpec(ReferencePaperMethods.Softmax(processed.Select(v => (double)v).ToArray()).Select(v => (float)v).ToArray(), softmax, "softmax(z̃)");
        using var batch = Create(processed, 1, 3);
        var token = new int[1];
        batch.Kernels.ArgMax(batch, token);
        token[0].Should().Be(greedy);
        CopilotFusion.GreedyToken(Z, f, lambda, CopilotFusionMode.Logit).Should().Be(greedy);
    }

    [Fact]
    public void Spec_T4_paper_worked_figure()
    {
        var pilot = new[] { 8.3f, 1.7f, 1.4f, 7.7f, -0.7f };
        var correction = new[] { -2.1f, 0.2f, 0.1f, 2.4f, 0.1f };
        var processed = Fuse(pilot, correction, 1f, CopilotFusionMode.Logit);
        AssertSpec(processed, new[] { 6.2, 1.9, 1.5, 10.1, -0.6 }, "fused logits");
        AssertSpec(ReferencePaperMethods.Softmax(processed.Select(v => (double)v).ToArray()).Select(v => (float)v).ToArray(), new[] { 0.019831, 0.000269, 0.000180, 0.979698, 0.000022 }, "fused softmax");
        CopilotFusion.GreedyToken(pilot, new float[5], 1f, CopilotFusionMode.Logit).Should().Be(0, "the Pilot alone picks token 0");
        CopilotFusion.GreedyToken(pilot, correction, 1f, CopilotFusionMode.Logit).Should().Be(3);
    }

    [Fact]
    public void Spec_T5_perfect_copilot()
    {
        var mistake = new[] { 0.909969, -0.244728, -0.665241 };
        var z = new[] { 1.0, 2.0, 3.0 };

        // ℓ from T1 to full double precision.
        double lse = Math.Log(z.Sum(Math.Exp));
        var exact = z.Select((v, i) => (i == 0 ? 1 : 0) - Math.Exp(v - lse)).ToArray();
        exact.Should().Equal(mistake, (a, e) => Math.Abs(a - e) <= SpecTolerance);
        exact.Sum().Should().BeApproximately(0, 1e-15);

        var raw = new double[3];
        CopilotFusion.FusedProbabilities(z, exact, 1.0, raw);
        raw.Should().Equal(new[] { 1.0, 0, 0 }, (a, e) => Math.Abs(a - e) <= 1e-15);
        CopilotFusion.FusedProbabilities(z, exact, 0.5, raw);
        raw.Should().Equal(new[] { 0.545015, 0.122364, 0.332620 }, (a, e) => Math.Abs(a - e) <= SpecTolerance);

        var rawFloat = new float[3];
        CopilotFusion.FusedProbabilities(Z, exact.Select(v => (float)v).ToArray(), 1f, rawFloat);
        rawFloat.Should().Equal(new[] { 1f, 0, 0 }, (a, e) => Math.Abs(a - e) <= 1e-6);
    }

    [Fact]
    public void Spec_T6_masked_token_stays_masked()
    {
        var z = new[] { 1f, 2f, NegInf };
        var f = new[] { 0f, 0f, 1f };
        AssertSpec(Fuse(z, f, 1f, CopilotFusionMode.Probability), new[] { -1.313262, -0.313262, double.NegativeInfinity }, "probability");
        AssertSpec(Fuse(z, f, 1f, CopilotFusionMode.Logit), new[] { 1, 2, double.NegativeInfinity }, "logit");
        var raw = new float[3];
        CopilotFusion.FusedProbabilities(z, f, 1f, raw);
        raw[2].Should().Be(0f, "the raw helper returns 0 at a filtered token");
        CopilotFusion.GreedyToken(new[] { 1f, 0f, NegInf }, new[] { -1f, -1f, 5f }, 1f, CopilotFusionMode.Probability)
            .Should().Be(0, "the degenerate fallback ranges over F only");
        AssertSpec(Fuse(new[] { 1f, 0f, NegInf }, new[] { -1f, -1f, 5f }, 1f, CopilotFusionMode.Probability), new[] { 0, double.NegativeInfinity, double.NegativeInfinity }, "degenerate over F");
    }

    [Fact]
    public void A_perfect_copilot_with_lambda_one_recovers_the_one_hot_target()
    {
        var rng = new Random(5);
        foreach (int vocab in new[] { 2, 3, 17, 64, 129, 4097, 151936 })
        {
            var data = LogitData.Random(2, vocab, vocab);
            var correction = new float[data.Length];
            var targets = new int[2];
            for (int r = 0; r < 2; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var finite = Enumerable.Range(0, vocab).Where(i => !float.IsNegativeInfinity(row[i])).ToArray();
                targets[r] = finite[rng.Next(finite.Length)];
                var raw = ReferencePaperMethods.CopilotRaw(row, new float[vocab], 0);
                for (int i = 0; i < vocab; i++)
                {
                    correction[(r * vocab) + i] = (float)((i == targets[r] ? 1 : 0) - raw[i]);
                }
            }

            var processed = Fuse(data, correction, 1f, CopilotFusionMode.Probability, rows: 2);
            for (int r = 0; r < 2; r++)
            {
                var q = Exp(LogitData.Row(processed, vocab, r));
                q[targets[r]].Should().BeGreaterThan(1 - 1e-6, $"vocab {vocab}, row {r}: all mass on the target");
                (q.Sum() - q[targets[r]]).Should().BeLessThan(1e-6);
                CopilotFusion.GreedyToken(LogitData.Row(data, vocab, r), LogitData.Row(correction, vocab, r), 1f, CopilotFusionMode.Probability).Should().Be(targets[r]);
            }
        }
    }

    private static float[] RandomCorrection(float[] data, int rows, int vocab, int seed)
    {
        var rng = new Random(seed);
        var f = new float[data.Length];
        for (int r = 0; r < rows; r++)
        {
            int style = (r + seed) % 5;
            var raw = ReferencePaperMethods.CopilotRaw(LogitData.Row(data, vocab, r), new float[vocab], 0);
            int target = rng.Next(vocab);
            for (int i = 0; i < vocab; i++)
            {
                f[(r * vocab) + i] = style switch
                {
                    0 => (float)((rng.NextDouble() * 2) - 1),
                    1 => (float)(((rng.NextDouble() * 2) - 1) * 0.01),
                    2 => (float)((i == target ? 1 : 0) - raw[i]),
                    3 => -1f,
                    _ => rng.Next(3) == 0 ? 0f : (float)(rng.NextDouble() - 0.7),
                };
            }
        }

        return f;
    }

    private static IEnumerable<int> Vocabs() => ReferenceVocabs().Concat(new[] { 151936 });

    /// <summary>Random rows with one all-equal row mixed in (LogitData already holds -inf, ties and single-entry rows).</summary>
    private static (float[] Data, int Rows) Batch(int vocab, int seed)
    {
        var (data, rows) = RandomBatch(vocab, seed);
        if (rows > 1)
        {
            data.AsSpan((rows - 1) * vocab, vocab).Fill(0.75f);
        }

        return (data, rows);
    }

    [Theory]
    [InlineData(CopilotFusionMode.Probability, 1f)]
    [InlineData(CopilotFusionMode.Probability, 0.3f)]
    [InlineData(CopilotFusionMode.Probability, 2.5f)]
    [InlineData(CopilotFusionMode.Logit, 1f)]
    [InlineData(CopilotFusionMode.Logit, 0.3f)]
    public void Random_batches_match_the_reference(CopilotFusionMode mode, float lambda)
    {
        foreach (int vocab in Vocabs())
        {
            var (data, rows) = Batch(vocab, vocab + 31);
            var f = RandomCorrection(data, rows, vocab, vocab);
            var actual = Fuse(data, f, lambda, mode, rows);
            for (int r = 0; r < rows; r++)
            {
                var z = LogitData.Row(data, vocab, r);
                var fr = LogitData.Row(f, vocab, r);
                var expected = mode == CopilotFusionMode.Probability
                    ? ReferencePaperMethods.CopilotProbability(z, fr, lambda)
                    : ReferencePaperMethods.CopilotLogit(z, fr, lambda);
                var row = LogitData.Row(actual, vocab, r);
                for (int i = 0; i < vocab; i++)
                {
                    double scale = mode == CopilotFusionMode.Logit ? Math.Abs(z[i]) + Math.Abs(lambda * fr[i]) : 1;
                    if (!Tolerance.Close(row[i], expected[i], scale))
                    {
                        throw new Xunit.Sdk.XunitException($"{mode} λ={lambda}: vocab {vocab}, row {r}, token {i}: expected {expected[i]:R}, got {row[i]:R}.");
                    }
                }

                if (mode == CopilotFusionMode.Probability && !IsEmpty(z))
                {
                    using var batch = Create(row, 1, vocab);
                    var token = new int[1];
                    batch.Kernels.ArgMax(batch, token);
                    int greedy = ReferencePaperMethods.CopilotGreedy(z, fr, lambda);
                    var raw = ReferencePaperMethods.CopilotRaw(z, fr, lambda);
                    raw[token[0]].Should().BeApproximately(raw[greedy], 1e-6, $"greedy over the row is argmax p̃ (vocab {vocab}, row {r})");
                }
            }
        }
    }

    [Fact]
    public void Lambda_zero_is_the_pilot_alone_and_does_not_call_the_source()
    {
        var (data, rows) = RandomBatch(129, 3);
        var source = new FixedLogitSource(new float[data.Length]);
        using var batch = Create(data, rows, 129);
        new CopilotRectificationProcessor(source, 0f).Process(batch, SamplingContext.ForRows(rows));
        source.Calls.Should().Be(0);
        var actual = batch.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var expected = ReferenceKernels.LogSoftmax(LogitData.Row(data, 129, r), r);
            var row = LogitData.Row(actual, 129, r);
            for (int i = 0; i < 129; i++)
            {
                Tolerance.Close(row[i], expected[i], Math.Max(1, data.Where(float.IsFinite).Max(Math.Abs))).Should().BeTrue();
            }
        }

        var logit = Fuse(data, new float[data.Length], 0f, CopilotFusionMode.Logit, rows);
        logit.Should().Equal(data);
    }

    [Theory]
    [InlineData(CopilotFusionMode.Probability)]
    [InlineData(CopilotFusionMode.Logit)]
    public void An_all_negative_infinity_row_passes_through(CopilotFusionMode mode)
    {
        var data = new[] { 1f, 2f, 3f, NegInf, NegInf, NegInf };
        var result = Fuse(data, new[] { 0.1f, -0.1f, 0f, 0.5f, 0.5f, 0.5f }, 1f, mode, rows: 2);
        result.Skip(3).Should().OnlyContain(v => float.IsNegativeInfinity(v));
        result.Take(3).Should().OnlyContain(v => !float.IsNegativeInfinity(v));

        using var pilot = Create(data, 2, 3);
        using var correction = Create(new[] { 0.1f, -0.1f, 0f, 0.5f, 0.5f, 0.5f }, 2, 3);
        CopilotFusion.Fuse(pilot, correction, 1f, mode, pilot);
        pilot.ToArray().Skip(3).Should().OnlyContain(v => float.IsNegativeInfinity(v));
    }

    [Theory]
    [InlineData(-0.5f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Invalid_lambda_is_rejected(float lambda)
    {
        var source = new FixedLogitSource(new float[3]);
        FluentActions.Invoking(() => new CopilotRectificationProcessor(source, lambda)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lambda");
        FluentActions.Invoking(() => CopilotFusion.Fuse(Z, new float[3], lambda, CopilotFusionMode.Probability, new float[3])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lambda");
        FluentActions.Invoking(() => LogitPipeline.CreateBuilder().CopilotRectification(source, lambda)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lambda");
    }

    [Fact]
    public void Invalid_mode_source_and_lengths_are_rejected()
    {
        var source = new FixedLogitSource(new float[3]);
        FluentActions.Invoking(() => new CopilotRectificationProcessor(source, 1f, (CopilotFusionMode)7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("mode");
        FluentActions.Invoking(() => new CopilotRectificationProcessor(null!)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("correctionSource");
        FluentActions.Invoking(() => CopilotFusion.Fuse(Z, new float[2], 1f, CopilotFusionMode.Probability, new float[3])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("correction");
        FluentActions.Invoking(() => CopilotFusion.Fuse(Z, new float[3], 1f, CopilotFusionMode.Probability, new float[2])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
        using var pilot = Create(Z, 1, 3);
        using var wrong = Create(new float[6], 2, 3);
        FluentActions.Invoking(() => CopilotFusion.Fuse(pilot, wrong, 1f, CopilotFusionMode.Logit, pilot)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("correction");
    }

    [Theory]
    [InlineData(CopilotFusionMode.Probability, float.NaN)]
    [InlineData(CopilotFusionMode.Probability, float.PositiveInfinity)]
    [InlineData(CopilotFusionMode.Probability, float.NegativeInfinity)]
    [InlineData(CopilotFusionMode.Logit, float.NaN)]
    [InlineData(CopilotFusionMode.Logit, float.PositiveInfinity)]
    [InlineData(CopilotFusionMode.Logit, float.NegativeInfinity)]
    public void A_non_finite_correction_throws_with_the_correction_stage(CopilotFusionMode mode, float bad)
    {
        var f = new[] { 0f, 0.1f, 0f, 0f, 0f, bad };
        var error = FluentActions.Invoking(() => Fuse(new[] { 1f, 2f, 3f, 1f, 2f, 3f }, f, 1f, mode, rows: 2))
            .Should().Throw<InvalidLogitsException>().Which;
        error.Stage.Should().Be("copilot-correction");
        error.Row.Should().Be(1);
        error.TokenIndex.Should().Be(2);
        FluentActions.Invoking(() => CopilotFusion.Fuse(Z, new[] { 0f, bad, 0f }, 1f, mode, new float[3]))
            .Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("copilot-correction");
    }

    [Fact]
    public void The_builder_adds_the_processor_and_greedy_selects_argmax_p_tilde()
    {
        var source = new FixedLogitSource(new[] { 0f, 1f, 0f });
        var pipeline = LogitPipeline.CreateBuilder().CopilotRectification(source, 0.5f).TopK(2).Greedy();
        pipeline.Processors[0].Should().BeOfType<CopilotRectificationProcessor>().Which.Lambda.Should().Be(0.5f);
        using var batch = Create(Z, 1, 3);
        pipeline.Sample(batch, new SamplingContext()).Should().Be(1);
        new CopilotRectificationProcessor(source).IsArgmaxInvariant.Should().BeFalse();
    }
}

public sealed class CpuCopilotRectificationTests : CopilotRectificationTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

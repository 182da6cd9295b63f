using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Guidance;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Guidance;

public abstract class SteerTests : ProcessorTestBase
{
    private static readonly float[] Expert = { 1f, 2f, 3f };
    private static readonly float[] BaseLogits = { 0f, 1f, 0f };
    private static readonly float[] Negative = { 3f, 2f, 1f };

    private float[] Run(float[] expert, float[]? baseRow, float[]? negative, float gamma, float eta, int rows = 1)
    {
        var baseSource = baseRow is null ? null : new FixedLogitSource(baseRow);
        var negativeSource = negative is null ? null : new FixedLogitSource(negative);
        using var batch = Create(expert, rows, expert.Length / rows);
        new SteerProcessor(baseSource, negativeSource, gamma, eta).Process(batch, SamplingContext.ForRows(rows));
        return batch.ToArray();
    }

    private float[] RunBatchFunction(float[] expert, float[] baseRow, float[] negative, float gamma, float eta, int rows = 1)
    {
        int vocab = expert.Length / rows;
        using var e = Create(expert, rows, vocab);
        using var b = Create(baseRow, rows, vocab);
        using var n = Create(negative, rows, vocab);
        using var destination = e.CreateLike();
        Steer.Combine(e, b, n, gamma, eta, destination);
        e.ToArray().Should().Equal(expert, "the inputs are not modified");
        b.ToArray().Should().Equal(baseRow);
        n.ToArray().Should().Equal(negative);
        return destination.ToArray();
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

    private static float[] SoftmaxOf(IEnumerable<float> scores) =>
        ReferencePaperMethods.Softmax(scores.Select(v => (double)v).ToArray()).Select(v => (float)v).ToArray();

    public static TheoryData<float, float, double[], double[]> S1Rows() => new()
    {
        { 0f, 0f, new[] { -2.407606, -1.407606, -0.407606 }, new[] { 0.090031, 0.244728, 0.665241 } },
        { 0.2f, 0.2f, new[] { -2.497317, -1.297317, 0.302683 }, new[] { 0.048159, 0.159892, 0.791950 } },
        { 0.5f, 0f, new[] { -2.835687, -1.835687, 0.164313 }, new[] { 0.042010, 0.114195, 0.843795 } },
        { 0f, 0.5f, new[] { -2.203803, -0.703803, 0.796197 }, new[] { 0.039113, 0.175290, 0.785597 } },
        { 0.2f, 0.6f, new[] { -2.334275, -0.734275, 1.265725 }, new[] { 0.023501, 0.116402, 0.860097 } },
        { 1f, 1f, new[] { -2.856161, -0.856161, 3.143839 }, new[] { 0.002428, 0.017943, 0.979629 } },
    };

    [Theory]
    [MemberData(nameof(S1Rows))]
    public void Spec_S1_scores_and_distribution(float gamma, float eta, double[] steer, double[] distribution)
    {
        var processed = Run(Expert, BaseLogits, Negative, gamma, eta);
        AssertSpec(processed, steer, "processor");
        AssertSpec(SoftmaxOf(processed), distribution, "softmax");
        AssertSpec(RunBatchFunction(Expert, BaseLogits, Negative, gamma, eta), steer, "batch function");

        var span = new double[3];
        Steer.Combine(Expert.Select(v => (double)v).ToArray(), BaseLogits.Select(v => (double)v).ToArray(), Negative.Select(v => (double)v).ToArray(), gamma, eta, span);
        span.Should().Equal(steer, (a, e) => Math.Abs(a - e) <= 1e-6);
        var floatSpan = new float[3];
        Steer.Combine(Expert, BaseLogits, Negative, gamma, eta, floatSpan);
        AssertSpec(floatSpan, steer, "float span");
    }

    [Fact]
    public void Spec_S1_defaults_are_gamma_0_2_and_eta_0_6()
    {
        var processor = new SteerProcessor(new FixedLogitSource(BaseLogits), new FixedLogitSource(Negative));
        processor.Gamma.Should().Be(0.2);
        processor.Eta.Should().Be(0.6);
        using var batch = Create(Expert, 1, 3);
        processor.Process(batch, SamplingContext.ForRows(1));
        AssertSpec(batch.ToArray(), new[] { -2.334275, -0.734275, 1.265725 }, "defaults");
    }

    [Fact]
    public void Spec_S2_shift_invariance()
    {
        var processed = Run(Expert.Select(v => v + 5).ToArray(), BaseLogits.Select(v => v - 3).ToArray(), Negative.Select(v => v + 100).ToArray(), 0.2f, 0.6f);
        AssertSpec(processed, new[] { -2.334275, -0.734275, 1.265725 }, "shifted");
    }

    [Fact]
    public void Spec_S3_raw_logit_equivalence()
    {
        var raw = Expert.Select((v, i) => (1.2 * v) - (0.2 * BaseLogits[i]) - (0.6 * Negative[i])).ToArray();
        raw.Should().Equal(new[] { -0.6, 1.0, 3.0 }, (a, e) => Math.Abs(a - e) <= 1e-6);
        AssertSpec(SoftmaxOf(raw.Select(v => (float)v)), new[] { 0.023501, 0.116402, 0.860097 }, "softmax(raw)");
        AssertSpec(SoftmaxOf(Run(Expert, BaseLogits, Negative, 0.2f, 0.6f)), new[] { 0.023501, 0.116402, 0.860097 }, "softmax(steer)");
    }

    [Fact]
    public void Spec_S4_top_k_after_steer()
    {
        var pipeline = LogitPipeline.CreateBuilder()
            .SteerPaperSetup(new FixedLogitSource(BaseLogits), new FixedLogitSource(Negative), topK: 2)
            .Multinomial(1);
        pipeline.Processors.Select(p => p.GetType()).Should().Equal(typeof(SteerProcessor), typeof(TopKProcessor), typeof(TemperatureProcessor));
        using var batch = Create(Expert, 1, 3);
        pipeline.Process(batch, SamplingContext.ForRows(1));
        var row = batch.ToArray();
        Kept(row).Should().Equal(1, 2);
        AssertSpec(SoftmaxOf(row), new[] { 0, 0.119203, 0.880797 }, "top-2 distribution");
        LogitPipeline.CreateBuilder().SteerPaperSetup(new FixedLogitSource(BaseLogits), new FixedLogitSource(Negative)).Multinomial(1)
            .Processors[1].Should().BeOfType<TopKProcessor>().Which.K.For(0).Should().Be(10);
    }

    [Theory]
    [InlineData(1.0f, new[] { 0.0, 0, 0 }, new[] { 0.333333, 0.333333, 0.333333 })]
    [InlineData(1.5f, new[] { 1.203803, 0.703803, 0.203803 }, new[] { 0.506480, 0.307196, 0.186324 })]
    public void Spec_S5_coefficient_sum(float eta, double[] steer, double[] distribution)
    {
        var processed = Run(Expert, Expert, Expert, 0.2f, eta);
        AssertSpec(processed, steer, "score");
        AssertSpec(SoftmaxOf(processed), distribution, "distribution");
    }

    [Fact]
    public void Spec_S6_negative_infinity_in_a_row()
    {
        var withBase = Run(Expert, new[] { 0f, 1f, NegInf }, Negative, 0.2f, 0.6f);
        AssertSpec(withBase, new[] { -2.381911, -0.781911, 1.036958 }, "base -inf");
        AssertSpec(SoftmaxOf(withBase), new[] { 0.027406, 0.135745, 0.836849 }, "base -inf distribution");
        AssertSpec(RunBatchFunction(Expert, new[] { 0f, 1f, NegInf }, Negative, 0.2f, 0.6f), new[] { -2.381911, -0.781911, 1.036958 }, "batch function");

        var withNegative = Run(Expert, BaseLogits, new[] { 3f, NegInf, 1f }, 0.2f, 0.6f);
        AssertSpec(withNegative, new[] { -2.502681, -1.578838, 1.097319 }, "negative -inf");
        AssertSpec(SoftmaxOf(withNegative), new[] { 0.024927, 0.062790, 0.912283 }, "negative -inf distribution");

        var expertMasked = Run(new[] { 1f, 2f, NegInf }, new[] { 0f, 0f, 50f }, new[] { 0f, 0f, -50f }, 0.2f, 0.6f);
        float.IsNegativeInfinity(expertMasked[2]).Should().BeTrue();
        var bothMasked = Run(new[] { 1f, 2f, NegInf }, new[] { 0f, NegInf, NegInf }, new[] { NegInf, 0f, NegInf }, 0.2f, 0.6f);
        float.IsNegativeInfinity(bothMasked[2]).Should().BeTrue();
        bothMasked.Take(2).Should().OnlyContain(v => float.IsFinite(v));
    }

    [Fact]
    public void Spec_S7_superseded_form_is_not_produced()
    {
        var distribution = SoftmaxOf(Run(Expert, BaseLogits, Negative, 0.2f, 0.2f));
        distribution[0].Should().NotBeApproximately(0.067836f, 1e-3f);
        AssertSpec(distribution, new[] { 0.048159, 0.159892, 0.791950 }, "final form");
    }

    [Fact]
    public void Spec_S8_and_S9_agreement_with_aligndistil_and_cfg()
    {
        AssertSpec(SoftmaxOf(Run(Expert, BaseLogits, null, 0.5f, 0f)), new[] { 0.042010, 0.114195, 0.843795 }, "S8");
        AssertSpec(Run(Expert, Negative, null, 0.5f, 0f), new[] { -3.407606, -1.407606, 0.592394 }, "S9");
    }

    [Fact]
    public void Zero_coefficients_do_not_call_their_sources()
    {
        var baseSource = new FixedLogitSource(BaseLogits);
        var negativeSource = new FixedLogitSource(Negative);
        using (var batch = Create(Expert, 1, 3))
        {
            new SteerProcessor(baseSource, negativeSource, 0f, 0.6f).Process(batch, SamplingContext.ForRows(1));
        }

        using (var batch = Create(Expert, 1, 3))
        {
            new SteerProcessor(baseSource, negativeSource, 0.2f, 0f).Process(batch, SamplingContext.ForRows(1));
        }

        baseSource.Calls.Should().Be(1);
        negativeSource.Calls.Should().Be(1);
        AssertSpec(Run(Expert, null, null, 0f, 0f), new[] { -2.407606, -1.407606, -0.407606 }, "γ = η = 0 gives lp_ft");
    }

    private static IEnumerable<int> Vocabs() => ReferenceVocabs().Concat(new[] { 151936 });

    private static int RowsFor(int vocab) => vocab >= 100000 ? 2 : 1 + (vocab % 5);

    private static double Scale(float gamma, float eta, params float[][] rows) =>
        (1 + (2 * gamma) + eta) * Math.Max(1, rows.SelectMany(r => r).Where(float.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());

    /// <summary>Random rows; the last row of a multi-row batch is all equal (the expert) or all -inf (a provider).</summary>
    private static float[] RandomRows(int rows, int vocab, int seed, float lastRowFill)
    {
        var data = LogitData.Random(rows, vocab, seed);
        if (rows > 1)
        {
            data.AsSpan((rows - 1) * vocab, vocab).Fill(lastRowFill);
        }

        return data;
    }

    [Theory]
    [InlineData(0.2f, 0.6f)]
    [InlineData(1f, 1.5f)]
    [InlineData(0f, 0.4f)]
    [InlineData(0.7f, 0f)]
    public void Random_batches_match_the_reference(float gamma, float eta)
    {
        foreach (int vocab in Vocabs())
        {
            int rows = RowsFor(vocab);
            var expert = RandomRows(rows, vocab, vocab, 0.25f);
            var baseRows = RandomRows(rows, vocab, vocab + 1, rows > 2 ? NegInf : 1f);
            var negative = RandomRows(rows, vocab, vocab + 2, rows > 3 ? NegInf : -2f);
            var actual = Run(expert, baseRows, negative, gamma, eta, rows);
            var fromFunction = RunBatchFunction(expert, baseRows, negative, gamma, eta, rows);
            for (int r = 0; r < rows; r++)
            {
                var e = LogitData.Row(expert, vocab, r);
                var b = LogitData.Row(baseRows, vocab, r);
                var n = LogitData.Row(negative, vocab, r);
                var expected = ReferencePaperMethods.Steer(e, b, n, gamma, eta);
                double scale = Scale(gamma, eta, e, b, n);
                var row = LogitData.Row(actual, vocab, r);
                var functionRow = LogitData.Row(fromFunction, vocab, r);
                var span = new float[vocab];
                Steer.Combine(e, b, n, gamma, eta, span);
                for (int i = 0; i < vocab; i++)
                {
                    if (!Tolerance.Close(row[i], expected[i], scale) || !Tolerance.Close(functionRow[i], expected[i], scale) || !Tolerance.Close(span[i], expected[i], scale))
                    {
                        throw new Xunit.Sdk.XunitException($"γ={gamma} η={eta}: vocab {vocab}, row {r}, token {i}: expected {expected[i]:R}, got {row[i]:R} / {functionRow[i]:R} / {span[i]:R}.");
                    }
                }
            }
        }
    }

    [Fact]
    public void Shift_invariance_per_input_on_random_batches()
    {
        foreach (int vocab in new[] { 1, 7, 64, 129, 4097, 151936 })
        {
            int rows = RowsFor(vocab);
            var expert = LogitData.Random(rows, vocab, vocab);
            var baseRows = LogitData.Random(rows, vocab, vocab + 1);
            var negative = LogitData.Random(rows, vocab, vocab + 2);
            var reference = Run(expert, baseRows, negative, 0.2f, 0.6f, rows);
            foreach (var (se, sb, sn) in new[] { (7.5f, 0f, 0f), (0f, -40f, 0f), (0f, 0f, 123f), (-3f, 11f, 0.5f) })
            {
                var shifted = Run(expert.Select(v => v + se).ToArray(), baseRows.Select(v => v + sb).ToArray(), negative.Select(v => v + sn).ToArray(), 0.2f, 0.6f, rows);
                for (int r = 0; r < rows; r++)
                {
                    double scale = Scale(0.2f, 0.6f, LogitData.Row(expert, vocab, r), LogitData.Row(baseRows, vocab, r), LogitData.Row(negative, vocab, r)) + 200;
                    for (int i = 0; i < vocab; i++)
                    {
                        int j = (r * vocab) + i;
                        Tolerance.Close(shifted[j], reference[j], scale).Should().BeTrue($"shift ({se}, {sb}, {sn}), vocab {vocab}, row {r}, token {i}: {shifted[j]} vs {reference[j]}");
                    }
                }
            }
        }
    }

    [Fact]
    public void An_all_negative_infinity_expert_row_passes_through_and_an_empty_provider_row_contributes_nothing()
    {
        var expert = new[] { 1f, 2f, 3f, NegInf, NegInf, NegInf };
        var result = Run(expert, new[] { 0f, 1f, 0f, 0f, 1f, 0f }, new[] { 3f, 2f, 1f, 3f, 2f, 1f }, 0.2f, 0.6f, rows: 2);
        result.Skip(3).Should().OnlyContain(v => float.IsNegativeInfinity(v));
        AssertSpec(result, new[] { -2.334275, -0.734275, 1.265725 }, "row 0");
        RunBatchFunction(expert, new[] { 0f, 1f, 0f, 0f, 1f, 0f }, new[] { 3f, 2f, 1f, 3f, 2f, 1f }, 0.2f, 0.6f, rows: 2)
            .Skip(3).Should().OnlyContain(v => float.IsNegativeInfinity(v));

        var emptyProviders = Run(Expert, new[] { NegInf, NegInf, NegInf }, new[] { NegInf, NegInf, NegInf }, 0.2f, 0.6f);
        AssertSpec(emptyProviders, new[] { -2.407606, -1.407606, -0.407606 }, "empty providers give lp_ft");
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Invalid_gamma_and_eta_are_rejected(float bad)
    {
        var source = new FixedLogitSource(BaseLogits);
        FluentActions.Invoking(() => new SteerProcessor(source, source, gamma: bad)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma");
        FluentActions.Invoking(() => new SteerProcessor(source, source, eta: bad)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eta");
        FluentActions.Invoking(() => Steer.Combine(Expert, BaseLogits, Negative, bad, 0.6f, new float[3])).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma");
        FluentActions.Invoking(() => LogitPipeline.CreateBuilder().Steer(source, source, 0.2f, bad)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eta");
    }

    [Fact]
    public void Missing_sources_and_wrong_lengths_are_rejected()
    {
        var source = new FixedLogitSource(BaseLogits);
        FluentActions.Invoking(() => new SteerProcessor(null, source)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("baseSource");
        FluentActions.Invoking(() => new SteerProcessor(source, null)).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("negativeSource");
        FluentActions.Invoking(() => new SteerProcessor(null, null, 0f, 0f)).Should().NotThrow();
        FluentActions.Invoking(() => Steer.Combine(Expert, ReadOnlySpan<float>.Empty, Negative, 0.2f, 0.6f, new float[3])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("baseLogits");
        FluentActions.Invoking(() => Steer.Combine(Expert, BaseLogits, new float[2], 0.2f, 0.6f, new float[3])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("negative");
        FluentActions.Invoking(() => Steer.Combine(Expert, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, 0f, 0f, new float[3])).Should().NotThrow();
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Invalid_provider_values_throw_with_their_stage(float bad)
    {
        var expert = new[] { 1f, 2f, 3f, 1f, 2f, 3f };
        var good = new[] { 0f, 1f, 0f, 0f, 1f, 0f };
        var broken = new[] { 0f, 1f, 0f, 0f, bad, 0f };
        var baseError = FluentActions.Invoking(() => Run(expert, broken, good, 0.2f, 0.6f, rows: 2)).Should().Throw<InvalidLogitsException>().Which;
        baseError.Stage.Should().Be("steer-base");
        baseError.Row.Should().Be(1);
        baseError.TokenIndex.Should().Be(1);
        FluentActions.Invoking(() => Run(expert, good, broken, 0.2f, 0.6f, rows: 2)).Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("steer-negative");
        FluentActions.Invoking(() => Steer.Combine(Expert, new[] { 0f, bad, 0f }, Negative, 0.2f, 0.6f, new float[3]))
            .Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("steer-base");
    }
}

public sealed class CpuSteerTests : SteerTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

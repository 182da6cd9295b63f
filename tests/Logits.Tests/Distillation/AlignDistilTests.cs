using System;
using System.Linq;
using FluentAssertions;
using Logits.Distillation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Distillation;

/// <summary>
/// AlignDistil's CPU functions (docs/algorithms/paper-methods.md#aligndistil): the reference vectors, the scalar double reference over random
/// batches, properties, and invalid input. The batch functions run on every backend through <see cref="Create"/>.
/// </summary>
public abstract class AlignDistilTests
{
    private static readonly double[] ZDpo = { 1, 2, 3 };
    private static readonly double[] ZRev = { 0, 1, 0 };
    private static readonly double[] Uniform = { 0, 0, 0 };

    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    /// <summary>Reference vector A1: (convention, r, α, z*, π*, KL, β₀/α, ℓ).</summary>
    public static TheoryData<TvdConvention, double, double, double[], double[], double, double, double> A1() => new()
    {
        { TvdConvention.HalfL1, 1, 0.454299, new[] { 1.454299, 2.454299, 4.362898 }, new[] { 0.045353, 0.123282, 0.831366 }, 0.691806, 0.220119, 0.152280 },
        { TvdConvention.FullL1, 1, 0.907599, new[] { 1.907599, 2.907599, 5.722796 }, new[] { 0.020365, 0.055358, 0.924277 }, 1.190262, 0.110181, 0.131144 },
        { TvdConvention.HalfL1, 10, 4.533994, new[] { 5.533994, 6.533994, 16.601982 }, new[] { 0.000016, 0.000042, 0.999942 }, 5.946771, 0.022056, 0.131160 },
        { TvdConvention.FullL1, 10, 9.066988, new[] { 10.066988, 11.066988, 30.200964 }, new[] { 0.0, 0.0, 1.0 }, 11.990705, 0.011029, 0.132246 },
        { TvdConvention.HalfL1, 20, 9.066988, new[] { 10.066988, 11.066988, 30.200964 }, new[] { 0.0, 0.0, 1.0 }, 11.990705, 0.011029, 0.132246 },
        { TvdConvention.FullL1, 15, 13.599982, new[] { 14.599982, 15.599982, 43.799946 }, new[] { 0.0, 0.0, 1.0 }, 18.034697, 0.007353, 0.132608 },
        { TvdConvention.HalfL1, 30, 13.599982, new[] { 14.599982, 15.599982, 43.799946 }, new[] { 0.0, 0.0, 1.0 }, 18.034697, 0.007353, 0.132608 },
    };

    [Fact]
    public void Common_inputs_have_the_spec_disagreement()
    {
        AlignDistil.Disagreement(ZDpo, ZRev, TvdConvention.FullL1).Should().BeApproximately(0.906599, 1e-6);
        AlignDistil.Disagreement(ZDpo, ZRev, TvdConvention.HalfL1).Should().BeApproximately(0.453299, 1e-6);
        AlignDistil.Disagreement(F(ZDpo), F(ZRev), TvdConvention.HalfL1).Should().BeApproximately(0.453299, 1e-6);
    }

    [Theory]
    [MemberData(nameof(A1))]
    public void A1_adaptive_extrapolation_teacher_and_loss(TvdConvention convention, double r, double alpha, double[] teacher, double[] pi, double kl, double weight, double loss)
    {
        var options = new AlignDistilOptions(convention: convention, scale: r);
        double d = AlignDistil.Disagreement(ZDpo, ZRev, convention);
        AlignDistil.Alpha(d, options).Should().BeApproximately(alpha, 1e-6);

        var z = new double[3];
        AlignDistil.TeacherLogits(ZDpo, ZRev, alpha, z);
        z.Should().Equal(teacher, (a, e) => Math.Abs(a - e) < 1e-5);
        ReferenceDistillation.Softmax(z).Should().Equal(pi, (a, e) => Math.Abs(a - e) < 1e-6);

        var result = AlignDistil.TokenLoss(Uniform, ZDpo, ZRev, options);
        result.Alpha.Should().BeApproximately(alpha, 1e-6);
        result.KL.Should().BeApproximately(kl, 1e-6);
        result.Weight.Should().BeApproximately(weight, 1e-6);
        result.Loss.Should().BeApproximately(loss, 1e-6);

        // The float span path and the batch path (on the backend under test) agree.
        AlignDistil.TokenLoss(F(Uniform), F(ZDpo), F(ZRev), options).Loss.Should().BeApproximately(loss, 1e-6);
        BatchToken(Uniform, ZDpo, ZRev, options).Loss.Should().BeApproximately(loss, 1e-6);
    }

    [Theory]
    [InlineData(1, new[] { 0.095595, 0.022222, -0.117817 })]
    [InlineData(20, new[] { 0.025899, 0.022222, -0.048121 })]
    public void A2_gradient_with_respect_to_the_student(double r, double[] expected)
    {
        var gradient = new double[3];
        AlignDistil.TokenLossGradient(Uniform, ZDpo, ZRev, new AlignDistilOptions(scale: r), gradient);
        gradient.Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
        gradient[1].Should().BeApproximately(2 * 0.1 / 9, 1e-12); // 2β₀/9 for any α with these inputs

        var fd = ReferenceDistillation.FiniteDifference(z => AlignDistil.TokenLoss(z, ZDpo, ZRev, new AlignDistilOptions(scale: r)).Loss, Uniform);
        gradient.Should().Equal(fd, (a, e) => Math.Abs(a - e) < 1e-7);
    }

    [Fact]
    public void A3_temperature_tempers_student_and_teacher_but_not_the_disagreement()
    {
        var result = BatchToken(Uniform, ZDpo, ZRev, new AlignDistilOptions(scale: 1, temperature: 2));
        result.Alpha.Should().BeApproximately(0.454299, 1e-6);
        result.KL.Should().BeApproximately(0.185844, 1e-6);
        result.Loss.Should().BeApproximately(0.040908, 1e-6);
        var teacher = ReferenceDistillation.AlignDistilToken(Uniform, ZDpo, ZRev, new AlignDistilOptions(scale: 1, temperature: 2)).Teacher;
        ReferenceDistillation.Softmax(teacher.Select(v => v / 2).ToArray()).Should().Equal(new[] { 0.144296, 0.237904, 0.617800 }, (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public void A4_agreeing_models_get_weight_beta0_over_epsilon()
    {
        var result = BatchToken(Uniform, ZDpo, ZDpo, AlignDistilOptions.Default);
        result.Disagreement.Should().Be(0);
        result.Alpha.Should().BeApproximately(0.001, 1e-12);
        result.KL.Should().BeApproximately(0.308994, 1e-6);
        result.Weight.Should().BeApproximately(100, 1e-9);
        result.Loss.Should().BeApproximately(30.899368, 1e-5);
    }

    [Fact]
    public void A5_shift_invariance()
    {
        var result = BatchToken(Uniform.Select(v => v + 7).ToArray(), ZDpo.Select(v => v - 4).ToArray(), ZRev.Select(v => v + 2.5).ToArray(), new AlignDistilOptions(scale: 1));
        result.Alpha.Should().BeApproximately(0.454299, 1e-6);
        result.Loss.Should().BeApproximately(0.152280, 1e-6);
    }

    /// <summary>Reference vector A6: (form, β or null, r, z*, KL, weight, ℓ).</summary>
    public static TheoryData<AlignDistilTeacherForm, double?, double[], double, double, double> A6() => new()
    {
        { AlignDistilTeacherForm.Theorem1Interpolation, 0.2, new[] { 0.5, 1.5, 1.5 }, 0.096716, 0.2, 0.019343 },
        { AlignDistilTeacherForm.FixedContrastive, 0.2, new[] { 1.5, 2.5, 4.5 }, 0.737900, 0.2, 0.147580 },
        { AlignDistilTeacherForm.AdaptiveInterpolation, null, new[] { 0.454299, 1.454299, 1.362898 }, 0.089596, 0.220119, 0.019722 },
        { AlignDistilTeacherForm.PlainTeacher, null, new[] { 1.0, 2, 3 }, 0.308994, 1, 0.308994 },
    };

    [Theory]
    [MemberData(nameof(A6))]
    public void A6_ablation_teacher_forms(AlignDistilTeacherForm form, double? beta, double[] teacher, double kl, double weight, double loss)
    {
        var options = new AlignDistilOptions(scale: 1, teacherForm: form, beta: beta);
        ReferenceDistillation.AlignDistilToken(Uniform, ZDpo, ZRev, options).Teacher.Should().Equal(teacher, (a, e) => Math.Abs(a - e) < 1e-6);
        var result = BatchToken(Uniform, ZDpo, form == AlignDistilTeacherForm.PlainTeacher ? null : ZRev, options);
        result.KL.Should().BeApproximately(kl, 1e-6);
        result.Weight.Should().BeApproximately(weight, 1e-6);
        result.Loss.Should().BeApproximately(loss, 1e-6);
    }

    [Theory]
    [InlineData(AlignDistilReduction.SequenceMean, 7.858011)]
    [InlineData(AlignDistilReduction.TokenMean, 10.410609)]
    [InlineData(AlignDistilReduction.SequenceSum, 15.615914)]
    public void A7_reductions(AlignDistilReduction reduction, double expected)
    {
        // Two sequences of length 3: [a, b, -] and [c, -, -]; '-' positions are unmarked (filled with other values).
        double[][] student = { Uniform, Uniform, new double[] { 5, 1, 2 }, new double[] { 0, 1, 0 }, Uniform, Uniform };
        double[][] dpo = { ZDpo, ZDpo, new double[] { 4, 4, 1 }, ZDpo, ZDpo, ZDpo };
        double[][] rev = { ZRev, ZDpo, new double[] { 0, 9, 1 }, new double[] { 3, 2, 1 }, ZRev, ZRev };
        bool[] mask = { true, true, false, true, false, false };
        var options = new AlignDistilOptions(reduction: reduction);
        using var s = Batch(student);
        using var d = Batch(dpo);
        using var r = Batch(rev);
        AlignDistil.Loss(s, d, r, mask, 3, options).Should().BeApproximately(expected, 1e-5);

        var tokens = new AlignDistilTokenResult[6];
        AlignDistil.TokenLosses(s, d, r, options, tokens);
        tokens[3].Disagreement.Should().BeApproximately(0.575210, 1e-6);
        tokens[3].Alpha.Should().BeApproximately(11.505208, 1e-6);
        tokens[3].KL.Should().BeApproximately(23.035087, 1e-5);
        tokens[3].Loss.Should().BeApproximately(0.200214, 1e-6);
    }

    [Fact]
    public void A8_position_alignment_uses_the_positions_that_predict_response_tokens()
    {
        bool[] response = { false, false, true, true, false, /* second sequence */ true, true, true, true, true };
        var positions = new bool[10];
        AlignDistil.AlignResponseMask(response, 5, positions);
        positions.Should().Equal(false, true, true, false, false, true, true, true, true, false);
    }

    [Fact]
    public void Reductions_skip_empty_sequences_and_an_empty_batch_gives_zero()
    {
        double[] losses = { 1, 2, 100, 100, 3, 5 };
        bool[] mask = { true, true, false, false, true, false };
        AlignDistil.Reduce(losses, mask, 2, AlignDistilReduction.SequenceMean).Should().BeApproximately((1.5 + 3) / 2, 1e-12);
        AlignDistil.Reduce(losses, mask, 2, AlignDistilReduction.SequenceSum).Should().BeApproximately((3 + 3) / 2.0, 1e-12);
        AlignDistil.Reduce(losses, mask, 2, AlignDistilReduction.TokenMean).Should().BeApproximately(2, 1e-12);
        AlignDistil.Reduce(losses, new bool[6], 3, AlignDistilReduction.SequenceMean).Should().Be(0);
        AlignDistil.Reduce(losses, new bool[6], 3, AlignDistilReduction.TokenMean).Should().Be(0);
    }

    [Fact]
    public void With_r_zero_the_teacher_is_the_dpo_logits_plus_epsilon_times_the_difference()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            int vocab = 1 + rng.Next(40);
            var zs = Enumerable.Range(0, vocab).Select(_ => (double)(float)((rng.NextDouble() * 10) - 5)).ToArray();
            var zd = Enumerable.Range(0, vocab).Select(_ => (double)(float)((rng.NextDouble() * 10) - 5)).ToArray();
            var zr = Enumerable.Range(0, vocab).Select(_ => (double)(float)((rng.NextDouble() * 10) - 5)).ToArray();
            var options = new AlignDistilOptions(scale: 0, epsilon: 0.01);
            var result = BatchToken(zs, zd, zr, options);
            result.Alpha.Should().Be(0.01);
            result.Weight.Should().BeApproximately(0.1 / 0.01, 1e-12);
            var teacher = new double[vocab];
            AlignDistil.TeacherLogits(zd, zr, result.Alpha, teacher);
            teacher.Should().Equal(zd.Select((v, i) => v + (0.01 * (v - zr[i]))), (a, e) => Math.Abs(a - e) < 1e-12);
            var logT = ReferenceDistillation.LogSoftmax(teacher);
            var logS = ReferenceDistillation.LogSoftmax(zs);
            double kl = logS.Select((l, i) => Math.Exp(l) * (l - logT[i])).Sum();
            result.KL.Should().BeApproximately(kl, 1e-9);
        }
    }

    /// <summary>Vocabulary sizes of the reference comparison: 1..67, the vector-width edges and Qwen2's 151936.</summary>
    public static TheoryData<int, int> RandomShapes()
    {
        var data = new TheoryData<int, int>();
        for (int v = 1; v <= 67; v++)
        {
            data.Add(1 + (v % 3), v);
        }

        foreach (int v in new[] { 127, 128, 129, 4095, 4096, 4097 })
        {
            data.Add(3, v);
        }

        data.Add(2, 151936);
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomShapes))]
    public void Token_losses_match_the_reference_on_random_batches(int rows, int vocab)
    {
        var student = ReferenceDistillation.FiniteLogits(rows, vocab, vocab * 31);
        var dpo = ReferenceDistillation.FiniteLogits(rows, vocab, (vocab * 31) + 1);
        var rev = ReferenceDistillation.FiniteLogits(rows, vocab, (vocab * 31) + 2);
        if (rows > 1)
        {
            // An all-equal row in every model: D = 0 and a uniform teacher.
            for (int i = 0; i < vocab; i++)
            {
                student[i] = 3f;
                dpo[i] = -1.5f;
                rev[i] = 7f;
            }
        }

        var forms = new[]
        {
            new AlignDistilOptions(scale: (vocab % 4) * 7.5, temperature: vocab % 2 == 0 ? 1 : 1.7),
            new AlignDistilOptions(convention: TvdConvention.FullL1, scale: 10),
            new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.FixedContrastive, beta: 0.3),
            new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.AdaptiveInterpolation, scale: 1),
        };
        using var s = Create(student, rows, vocab);
        using var d = Create(dpo, rows, vocab);
        using var r = Create(rev, rows, vocab);
        var results = new AlignDistilTokenResult[rows];
        foreach (var options in forms)
        {
            AlignDistil.TokenLosses(s, d, r, options, results);
            for (int row = 0; row < rows; row++)
            {
                var expected = ReferenceDistillation.AlignDistilToken(
                    D(LogitData.Row(student, vocab, row)), D(LogitData.Row(dpo, vocab, row)), D(LogitData.Row(rev, vocab, row)), options);
                AssertClose(results[row].KL, expected.KL, $"KL row {row}", 1e-9);
                AssertClose(results[row].Weight, expected.Weight, $"weight row {row}");
                AssertClose(results[row].Loss, expected.Loss, $"loss row {row}", 1e-9 * expected.Weight);
                if (options.IsAdaptive)
                {
                    AssertClose(results[row].Disagreement, expected.D, $"D row {row}", 1e-12);
                }
            }

            var mask = Enumerable.Range(0, rows).Select(i => i != 1).ToArray();
            double loss = AlignDistil.Loss(s, d, r, mask, 1, options);
            var perRow = results.Select((t, i) => mask[i] ? t.Loss : 0).ToArray();
            double expectedLoss = AlignDistil.Reduce(perRow, mask, 1, options.Reduction);
            AssertClose(loss, expectedLoss, "batch loss");
        }

        if (rows > 1)
        {
            results[0].Disagreement.Should().Be(0);
            results[0].KL.Should().BeApproximately(0, 1e-12);
        }
    }

    [Fact]
    public void Non_finite_logits_are_rejected()
    {
        double[] bad = { 1, double.NegativeInfinity, 3 };
        FluentActions.Invoking(() => AlignDistil.TokenLoss(Uniform, bad, ZRev, AlignDistilOptions.Default)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("zDpo");
        FluentActions.Invoking(() => AlignDistil.TokenLoss(Uniform, ZDpo, new[] { 0, double.NaN, 0 }, AlignDistilOptions.Default)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("zSecond");
        FluentActions.Invoking(() => AlignDistil.Disagreement(ZDpo, bad, TvdConvention.HalfL1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("zRev");
        using var s = Batch(new[] { Uniform, Uniform });
        using var d = Batch(new[] { ZDpo, bad });
        using var r = Batch(new[] { ZRev, ZRev });
        FluentActions.Invoking(() => AlignDistil.TokenLosses(s, d, r, AlignDistilOptions.Default, new AlignDistilTokenResult[2]))
            .Should().Throw<ArgumentException>().WithMessage("*row 1, token 1*");
        // An unmarked row is not read by the reduced loss.
        AlignDistil.Loss(s, d, r, new[] { true, false }, 2, AlignDistilOptions.Default).Should().BeApproximately(0.132246, 1e-6);
    }

    [Fact]
    public void Shapes_must_match()
    {
        FluentActions.Invoking(() => AlignDistil.TokenLoss(Uniform, new double[] { 1, 2 }, ZRev, AlignDistilOptions.Default)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("zDpo");
        FluentActions.Invoking(() => AlignDistil.TeacherLogits(ZDpo, ZRev, 1, new double[2])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
        using var s = Batch(new[] { Uniform, Uniform });
        using var d = Batch(new[] { ZDpo });
        FluentActions.Invoking(() => AlignDistil.Loss(s, d, s, new[] { true, true }, 1, AlignDistilOptions.Default)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("dpo");
        FluentActions.Invoking(() => AlignDistil.Loss(s, s, s, new[] { true }, 1, AlignDistilOptions.Default)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("positionMask");
        FluentActions.Invoking(() => AlignDistil.Loss(s, s, null, new[] { true, true }, 1, AlignDistilOptions.Default)).Should().Throw<ArgumentNullException>();
        AlignDistil.Loss(s, s, null, new[] { true, true }, 2, new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.PlainTeacher)).Should().Be(0);
    }

    public static TheoryData<Func<AlignDistilOptions>, string> InvalidOptions() => new()
    {
        { () => new AlignDistilOptions(beta0: 0), "beta0" },
        { () => new AlignDistilOptions(beta0: double.NaN), "beta0" },
        { () => new AlignDistilOptions(convention: (TvdConvention)7), "convention" },
        { () => new AlignDistilOptions(scale: -1), "scale" },
        { () => new AlignDistilOptions(scale: double.PositiveInfinity), "scale" },
        { () => new AlignDistilOptions(epsilon: 0), "epsilon" },
        { () => new AlignDistilOptions(temperature: 0), "temperature" },
        { () => new AlignDistilOptions(reduction: (AlignDistilReduction)3), "reduction" },
        { () => new AlignDistilOptions(teacherForm: (AlignDistilTeacherForm)9), "teacherForm" },
        { () => new AlignDistilOptions(beta: -0.1), "beta" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_name_the_parameter(Func<AlignDistilOptions> create, string paramName) =>
        create.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(paramName);

    [Fact]
    public void Fixed_weight_forms_need_beta_and_presets_carry_the_published_values()
    {
        FluentActions.Invoking(() => new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.FixedContrastive)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.Theorem1Interpolation)).Should().Throw<InvalidOperationException>();
        AlignDistilOptions.Default.Scale.Should().Be(20);
        AlignDistilOptions.Default.Convention.Should().Be(TvdConvention.HalfL1);
        AlignDistilOptions.PublishedOffPolicy.Convention.Should().Be(TvdConvention.FullL1);
        AlignDistilOptions.PublishedOffPolicy.Scale.Should().Be(10);
        AlignDistilOptions.PublishedOnPolicy.Scale.Should().Be(15);
        BatchToken(Uniform, ZDpo, ZRev, AlignDistilOptions.PublishedOnPolicy).Loss.Should().BeApproximately(0.132608, 1e-6);
    }

    private static void AssertClose(double actual, double expected, string what, double scale = 0)
    {
        if (!Tolerance.Close(actual, expected, scale))
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected:R}, got {actual:R}.");
        }
    }

    private AlignDistilTokenResult BatchToken(double[] zs, double[] zd, double[]? z2, AlignDistilOptions options)
    {
        using var s = Batch(new[] { zs });
        using var d = Batch(new[] { zd });
        using var r = z2 is null ? null : Batch(new[] { z2 });
        var result = new AlignDistilTokenResult[1];
        AlignDistil.TokenLosses(s, d, r, options, result);
        return result[0];
    }

    private LogitBatch Batch(double[][] rows) =>
        Create(rows.SelectMany(r => r).Select(v => (float)v).ToArray(), rows.Length, rows[0].Length);

    private static float[] F(double[] x) => x.Select(v => (float)v).ToArray();

    private static double[] D(float[] x) => x.Select(v => (double)v).ToArray();
}

/// <summary>AlignDistil's CPU functions on <see cref="CpuLogitBatch"/>.</summary>
public sealed class CpuAlignDistilTests : AlignDistilTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Distillation;
using Logits.Tensors;
using Logits.Tests.Distillation;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Distillation;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Distillation;

/// <summary>AlignDistil's CPU functions (reference vectors, reference, errors) on torch batches.</summary>
public sealed class TorchAlignDistilTests : AlignDistilTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

/// <summary>
/// The TorchSharp <see cref="AlignDistilLoss"/>: reference vectors (float64 and float32), autograd gradients against the
/// formulas and central finite differences, the CPU reference on random batches, reductions, masks, errors and leaks.
/// </summary>
public sealed class TorchAlignDistilLossTests
{
    private static readonly double[] ZDpo = { 1, 2, 3 };
    private static readonly double[] ZRev = { 0, 1, 0 };
    private static readonly double[] Uniform = { 0, 0, 0 };

    public static TheoryData<TvdConvention, double, double, double, double, double> A1() => new()
    {
        { TvdConvention.HalfL1, 1, 0.454299, 0.691806, 0.220119, 0.152280 },
        { TvdConvention.FullL1, 1, 0.907599, 1.190262, 0.110181, 0.131144 },
        { TvdConvention.HalfL1, 10, 4.533994, 5.946771, 0.022056, 0.131160 },
        { TvdConvention.FullL1, 10, 9.066988, 11.990705, 0.011029, 0.132246 },
        { TvdConvention.HalfL1, 20, 9.066988, 11.990705, 0.011029, 0.132246 },
        { TvdConvention.FullL1, 15, 13.599982, 18.034697, 0.007353, 0.132608 },
    };

    [Theory]
    [MemberData(nameof(A1))]
    public void A1_vectors_in_float64_and_float32(TvdConvention convention, double r, double alpha, double kl, double weight, double loss)
    {
        var options = new AlignDistilOptions(convention: convention, scale: r);
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            double tol(double x) => dtype == ScalarType.Float64 ? 1e-6 : 1e-5 * Math.Max(1, Math.Abs(x));
            using var scope = NewDisposeScope();
            using var diagnostics = new AlignDistilLoss(options).ComputeWithDiagnostics(
                Tensor3(dtype, Uniform), Tensor3(dtype, ZDpo), Tensor3(dtype, ZRev), ones(1, 1), maskIsAligned: true);
            diagnostics.Loss.dtype.Should().Be(dtype);
            diagnostics.Loss.AsDouble().Should().BeApproximately(loss, tol(loss));
            diagnostics.Alpha.AsDouble().Should().BeApproximately(alpha, tol(alpha));
            diagnostics.KL.AsDouble().Should().BeApproximately(kl, tol(kl));
            diagnostics.Weights.AsDouble().Should().BeApproximately(weight, tol(weight));
        }
    }

    [Theory]
    [InlineData(1, new[] { 0.095595, 0.022222, -0.117817 })]
    [InlineData(20, new[] { 0.025899, 0.022222, -0.048121 })]
    public void A2_autograd_gradient(double r, double[] expected)
    {
        using var scope = NewDisposeScope();
        var student = Tensor3(ScalarType.Float64, Uniform).requires_grad_();
        var loss = new AlignDistilLoss(new AlignDistilOptions(scale: r)).ComputeAligned(student, Tensor3(ScalarType.Float64, ZDpo), Tensor3(ScalarType.Float64, ZRev), ones(1, 1));
        loss.backward();
        student.grad!.data<double>().ToArray().Should().Equal(expected, (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public void A3_A4_A6_temperature_agreement_and_ablation_forms()
    {
        Single(new AlignDistilOptions(scale: 1, temperature: 2), Uniform, ZDpo, ZRev).Should().BeApproximately(0.040908, 1e-6);
        Single(AlignDistilOptions.Default, Uniform, ZDpo, ZDpo).Should().BeApproximately(30.899368, 1e-5);
        Single(new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.Theorem1Interpolation, beta: 0.2), Uniform, ZDpo, ZRev).Should().BeApproximately(0.019343, 1e-6);
        Single(new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.FixedContrastive, beta: 0.2), Uniform, ZDpo, ZRev).Should().BeApproximately(0.147580, 1e-6);
        Single(new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.AdaptiveInterpolation, scale: 1), Uniform, ZDpo, ZRev).Should().BeApproximately(0.019722, 1e-6);
        Single(new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.PlainTeacher), Uniform, ZDpo, null).Should().BeApproximately(0.308994, 1e-6);
        // A5: shifts per model change nothing.
        Single(new AlignDistilOptions(scale: 1), Uniform.Select(v => v + 7).ToArray(), ZDpo.Select(v => v - 4).ToArray(), ZRev.Select(v => v + 2.5).ToArray())
            .Should().BeApproximately(0.152280, 1e-6);
    }

    [Theory]
    [InlineData(AlignDistilReduction.SequenceMean, 7.858011)]
    [InlineData(AlignDistilReduction.TokenMean, 10.410609)]
    [InlineData(AlignDistilReduction.SequenceSum, 15.615914)]
    public void A7_reductions_with_a_token_level_response_mask(AlignDistilReduction reduction, double expected)
    {
        using var scope = NewDisposeScope();
        var student = Tensor(ScalarType.Float64, 2, 3, new[] { Uniform, Uniform, Uniform, new double[] { 0, 1, 0 }, Uniform, Uniform });
        var dpo = Tensor(ScalarType.Float64, 2, 3, new[] { ZDpo, ZDpo, ZDpo, ZDpo, ZDpo, ZDpo });
        var rev = Tensor(ScalarType.Float64, 2, 3, new[] { ZRev, ZDpo, new double[] { 9, 0, 0 }, new double[] { 3, 2, 1 }, ZRev, ZRev });
        // Tokens [p, r, r] and [p, r, p]: positions 0, 1 of sequence 0 and position 0 of sequence 1 carry loss.
        var response = tensor(new long[] { 0, 1, 1, 0, 1, 0 }, new long[] { 2, 3 });
        var loss = new AlignDistilLoss(new AlignDistilOptions(reduction: reduction));
        loss.Compute(student, dpo, rev, response).AsDouble().Should().BeApproximately(expected, 1e-5);
        using var d = loss.ComputeWithDiagnostics(student, dpo, rev, response);
        d.PositionMask.to_type(ScalarType.Int64).data<long>().ToArray().Should().Equal(1, 1, 0, 1, 0, 0);
        d.Disagreement[1, 0].AsDouble().Should().BeApproximately(0.575210, 1e-6);
        d.Alpha[1, 0].AsDouble().Should().BeApproximately(11.505208, 1e-6);
        d.KL[1, 0].AsDouble().Should().BeApproximately(23.035087, 1e-5);
        (d.KL[1, 0] * d.Weights[1, 0]).AsDouble().Should().BeApproximately(0.200214, 1e-6);
        d.SequenceLosses.shape.Should().Equal(2);
    }

    [Fact]
    public void A8_response_mask_alignment()
    {
        using var scope = NewDisposeScope();
        var aligned = AlignDistilLoss.AlignResponseMask(tensor(new long[] { 0, 0, 1, 1, 0 }, new long[] { 1, 5 }));
        aligned.dtype.Should().Be(ScalarType.Bool);
        aligned.to_type(ScalarType.Int64).data<long>().ToArray().Should().Equal(0, 1, 1, 0, 0);
    }

    [Fact]
    public void With_r_zero_every_token_gets_epsilon_and_the_teacher_is_dpo_plus_epsilon_times_the_difference()
    {
        using var scope = NewDisposeScope();
        var g = new Random(9);
        var zs = RandomTensor(g, 2, 3, 11);
        var zd = RandomTensor(g, 2, 3, 11);
        var zr = RandomTensor(g, 2, 3, 11);
        var options = new AlignDistilOptions(scale: 0, epsilon: 0.02);
        using var d = new AlignDistilLoss(options).ComputeWithDiagnostics(zs, zd, zr, ones(2, 3), maskIsAligned: true);
        d.Alpha.allclose(TorchScalars.Filled(new long[] { 2, 3 }, 0.02, ScalarType.Float64)).Should().BeTrue();
        d.Weights.allclose(TorchScalars.Filled(new long[] { 2, 3 }, 0.1 / 0.02, ScalarType.Float64)).Should().BeTrue();
        // Plain distillation towards the explicit teacher z_dpo + eps (z_dpo - z_rev), weighted by beta0/eps.
        var teacher = zd.Plus((zd - zr).Times(0.02));
        var plain = new AlignDistilLoss(new AlignDistilOptions(teacherForm: AlignDistilTeacherForm.PlainTeacher, reduction: AlignDistilReduction.TokenMean))
            .ComputeAligned(zs, teacher, null, ones(2, 3));
        var adaptive = new AlignDistilLoss(options.With(reduction: AlignDistilReduction.TokenMean)).ComputeAligned(zs, zd, zr, ones(2, 3));
        adaptive.AsDouble().Should().BeApproximately(plain.AsDouble() * 0.1 / 0.02, 1e-10);
    }

    public static TheoryData<AlignDistilTeacherForm, AlignDistilReduction, double> GradientCases() => new()
    {
        { AlignDistilTeacherForm.AdaptiveExtrapolation, AlignDistilReduction.SequenceMean, 1 },
        { AlignDistilTeacherForm.AdaptiveExtrapolation, AlignDistilReduction.TokenMean, 1.6 },
        { AlignDistilTeacherForm.AdaptiveInterpolation, AlignDistilReduction.SequenceSum, 0.8 },
        { AlignDistilTeacherForm.FixedContrastive, AlignDistilReduction.SequenceMean, 1 },
        { AlignDistilTeacherForm.Theorem1Interpolation, AlignDistilReduction.TokenMean, 2 },
        { AlignDistilTeacherForm.PlainTeacher, AlignDistilReduction.SequenceSum, 1 },
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradient_matches_central_finite_differences_in_float64(AlignDistilTeacherForm form, AlignDistilReduction reduction, double temperature)
    {
        using var scope = NewDisposeScope();
        var g = new Random(4);
        var zs = RandomTensor(g, 2, 3, 5);
        var zd = RandomTensor(g, 2, 3, 5);
        var zr = RandomTensor(g, 2, 3, 5);
        var mask = tensor(new[] { true, true, false, false, true, false }, new long[] { 2, 3 });
        var loss = new AlignDistilLoss(new AlignDistilOptions(scale: 3, temperature: temperature, reduction: reduction, teacherForm: form, beta: 0.25));
        var x = zs.clone().requires_grad_();
        loss.ComputeAligned(x, zd, zr, mask).backward();
        var analytic = x.grad!.data<double>().ToArray();
        var x0 = zs.data<double>().ToArray();
        var numeric = ReferenceDistillation.FiniteDifference(v => loss.ComputeAligned(tensor(v, zs.shape), zd, zr, mask).AsDouble(), x0);
        for (int i = 0; i < analytic.Length; i++)
        {
            analytic[i].Should().BeApproximately(numeric[i], 1e-7 + (1e-6 * Math.Abs(numeric[i])), $"element {i}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 64)]
    [InlineData(2, 129)]
    [InlineData(1, 4097)]
    [InlineData(2, 151936)]
    public void Loss_matches_the_reference_on_random_batches(int sequenceLength, int vocab)
    {
        using var scope = NewDisposeScope();
        int rows = 2 * sequenceLength;
        var student = ReferenceDistillation.FiniteLogits(rows, vocab, vocab + 1);
        var dpo = ReferenceDistillation.FiniteLogits(rows, vocab, vocab + 2);
        var rev = ReferenceDistillation.FiniteLogits(rows, vocab, vocab + 3);
        Array.Fill(student, 1.25f, 0, vocab); // an all-equal row
        var mask = Enumerable.Range(0, rows).Select(i => i % 3 != 2).ToArray();
        foreach (var options in new[] { AlignDistilOptions.Default, new AlignDistilOptions(convention: TvdConvention.FullL1, scale: 5, temperature: 1.3, reduction: AlignDistilReduction.TokenMean) })
        {
            var tokens = new AlignDistilTokenResult[rows];
            using var s = CpuLogitBatch.FromRows(student, rows, vocab);
            using var d = CpuLogitBatch.FromRows(dpo, rows, vocab);
            using var r = CpuLogitBatch.FromRows(rev, rows, vocab);
            double expected = AlignDistil.Loss(s, d, r, mask, sequenceLength, options);

            var shape = new long[] { 2, sequenceLength, vocab };
            var m = tensor(mask, new long[] { 2, sequenceLength });
            double actual64 = new AlignDistilLoss(options).ComputeAligned(
                tensor(student, shape).to_type(ScalarType.Float64), tensor(dpo, shape).to_type(ScalarType.Float64), tensor(rev, shape).to_type(ScalarType.Float64), m).AsDouble();
            Tolerance.Close(actual64, expected, 1e-6).Should().BeTrue($"float64: expected {expected:R}, got {actual64:R}");
        }
    }

    [Fact]
    public void Float32_matches_the_reference_on_realistic_logits()
    {
        using var scope = NewDisposeScope();
        const int vocab = 4096, seq = 3;
        var rng = new Random(21);
        float[] Realistic() => Enumerable.Range(0, 2 * seq * vocab).Select(_ => (float)(rng.NextDouble() * 12) - 6).ToArray();
        var (student, dpo, rev) = (Realistic(), Realistic(), Realistic());
        var mask = new[] { true, true, false, true, false, true };
        using var s = CpuLogitBatch.FromRows(student, 2 * seq, vocab);
        using var d = CpuLogitBatch.FromRows(dpo, 2 * seq, vocab);
        using var r = CpuLogitBatch.FromRows(rev, 2 * seq, vocab);
        double expected = AlignDistil.Loss(s, d, r, mask, seq, AlignDistilOptions.Default);
        var shape = new long[] { 2, seq, vocab };
        double actual = new AlignDistilLoss().ComputeAligned(tensor(student, shape), tensor(dpo, shape), tensor(rev, shape), tensor(mask, new long[] { 2, seq })).AsDouble();
        Tolerance.Close(actual, expected).Should().BeTrue($"expected {expected:R}, got {actual:R}");
    }

    [Fact]
    public void A_batch_without_response_tokens_gives_zero_with_zero_gradient()
    {
        using var scope = NewDisposeScope();
        var x = Tensor3(ScalarType.Float64, Uniform).requires_grad_();
        var loss = new AlignDistilLoss().Compute(x, Tensor3(ScalarType.Float64, ZDpo), Tensor3(ScalarType.Float64, ZRev), ones(1, 1));
        loss.AsDouble().Should().Be(0);
        loss.backward();
        x.grad!.abs().sum().AsDouble().Should().Be(0);
    }

    [Fact]
    public void Invalid_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        var good = Tensor3(ScalarType.Float32, ZDpo);
        var inf = Tensor3(ScalarType.Float32, new[] { 1, double.NegativeInfinity, 3 });
        var loss = new AlignDistilLoss();
        FluentActions.Invoking(() => loss.ComputeAligned(good, inf, good, ones(1, 1))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => loss.ComputeAligned(good, good, good.reshape(1, 3), ones(1, 1))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("secondLogits");
        FluentActions.Invoking(() => loss.ComputeAligned(good, good, null, ones(1, 1))).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => loss.ComputeAligned(good, good, good, ones(1, 2))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("mask");
        FluentActions.Invoking(() => loss.ComputeAligned(good.reshape(3), good, good, ones(1, 1))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("student");
        // Without validation the -inf propagates (documented: finite inputs are required).
        double unchecked64 = new AlignDistilLoss(new AlignDistilOptions(validateInputs: false)).ComputeAligned(good, inf, good, ones(1, 1)).AsDouble();
        double.IsFinite(unchecked64).Should().BeFalse();
    }

    [Fact]
    public void Leaves_no_live_tensors_and_never_disposes_inputs()
    {
        var zs = Tensor3(ScalarType.Float32, Uniform).requires_grad_();
        var zd = Tensor3(ScalarType.Float32, ZDpo);
        var zr = Tensor3(ScalarType.Float32, ZRev);
        var mask = ones(1, 1);
        var loss = new AlignDistilLoss();
        void Run()
        {
            using (var l = loss.Compute(zs, zd, zr, mask))
            {
                l.backward();
            }

            using (loss.ComputeWithDiagnostics(zs, zd, zr, mask, maskIsAligned: true))
            {
            }

            using (var m = AlignDistilLoss.AlignResponseMask(mask))
            {
            }

            using var badMask = ones(2, 2);
            Assert.Throws<ArgumentException>(() => loss.Compute(zs, zd, zr, badMask));
        }

        Run();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            Run();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
        zs.IsInvalid.Should().BeFalse();
        zd.IsInvalid.Should().BeFalse();
        zd.data<float>().ToArray().Should().Equal(1f, 2f, 3f);
    }

    private static double Single(AlignDistilOptions options, double[] zs, double[] zd, double[]? z2)
    {
        using var scope = NewDisposeScope();
        return new AlignDistilLoss(options).ComputeAligned(
            Tensor3(ScalarType.Float64, zs), Tensor3(ScalarType.Float64, zd), z2 is null ? null : Tensor3(ScalarType.Float64, z2), ones(1, 1)).AsDouble();
    }

    private static Tensor Tensor3(ScalarType dtype, double[] row) => tensor(row, new long[] { 1, 1, row.Length }).to_type(dtype);

    private static Tensor Tensor(ScalarType dtype, int batch, int sequence, double[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), new long[] { batch, sequence, rows[0].Length }).to_type(dtype);

    private static Tensor RandomTensor(Random g, int b, int s, int v) =>
        tensor(Enumerable.Range(0, b * s * v).Select(_ => (g.NextDouble() * 8) - 4).ToArray(), new long[] { b, s, v });
}

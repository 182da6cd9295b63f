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
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Distillation;

/// <summary>Dual-Head KD's CPU losses (reference vectors, reference, errors) on torch batches.</summary>
public sealed class TorchDualHeadKdTests : DualHeadKdTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

/// <summary>
/// The TorchSharp Dual-Head KD losses, combined loss, gradient aligner and classifier: reference vectors, autograd against
/// the formulas and finite differences, the CPU reference on random batches, structure, a short training run, errors, leaks.
/// </summary>
public sealed class TorchDualHeadLossTests
{
    private static readonly double[] Aux = { 1, 2, 3 };
    private static readonly double[] Teacher = { 0, 1, 0 };

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float32)]
    public void D1_to_D4_values_and_gradients(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        double tol = dtype == ScalarType.Float64 ? 1e-6 : 1e-5;
        var t = Row(Teacher, dtype);

        var s = Row(Aux, dtype).requires_grad_();
        DualHeadLosses.BinaryKLNorm(s, t).backward();
        DualHeadLosses.BinaryKLNorm(s, t).AsDouble().Should().BeApproximately(1.280503, tol * 1.3);
        DualHeadLosses.BinaryKLNorm(s, t, clampMode: LogitClampMode.ReferenceClamp).AsDouble().Should().BeApproximately(1.280503, tol * 1.3);
        Values(s.grad!).Should().Equal(new[] { 0.244919, 0.244919, 0.635149 }, (a, e) => Math.Abs(a - e) < tol);

        s = Row(Aux, dtype).requires_grad_();
        DualHeadLosses.BinaryKL(s, t).backward();
        DualHeadLosses.BinaryKL(s, t).AsDouble().Should().BeApproximately(1.268604, tol * 1.3);
        Values(s.grad!).Should().Equal(new[] { 0.244919, 0.217198, 0.635149 }, (a, e) => Math.Abs(a - e) < tol);

        DualHeadLosses.SoftmaxKD(Row(Aux, dtype), t).AsDouble().Should().BeApproximately(0.448256, tol);
        DualHeadLosses.SoftmaxKD(Row(Aux, dtype), t, 2).AsDouble().Should().BeApproximately(0.447297, tol);
        DualHeadLosses.CrossEntropy(Row(Aux, dtype), tensor(new long[] { 2 })).AsDouble().Should().BeApproximately(0.407606, tol);
    }

    [Theory]
    [InlineData(1.0, null, null, 1.688109)]
    [InlineData(0.1, null, null, 0.535656)]
    [InlineData(1.0, 50, 50, 0.407606)]
    public void D5_total_loss(double alpha, int? stopEpoch, int? epoch, double expected)
    {
        using var scope = NewDisposeScope();
        var z = Row(Aux, ScalarType.Float64);
        using var result = new DualHeadKdLoss(new DualHeadKdOptions(alpha: alpha, auxiliaryStopEpoch: stopEpoch)).Compute(z, z, Row(Teacher, ScalarType.Float64), tensor(new long[] { 2 }), epoch);
        result.Total.AsDouble().Should().BeApproximately(expected, 1e-6);
        result.CrossEntropy.AsDouble().Should().BeApproximately(0.407606, 1e-6);
        result.CrossEntropy.Plus(result.Auxiliary).AsDouble().Should().BeApproximately(result.Total.AsDouble(), 1e-12);
    }

    [Fact]
    public void D6_to_D8_hidden_logit_information_batches_and_huge_gaps()
    {
        using var scope = NewDisposeScope();
        var s = Row(new double[] { 2, 3, 4 }, ScalarType.Float64);
        var t = Row(new double[] { -2, -1, 0 }, ScalarType.Float64);
        DualHeadLosses.SoftmaxKD(s, t).AsDouble().Should().BeApproximately(0, 1e-12);
        DualHeadLosses.BinaryKL(s, t).AsDouble().Should().BeApproximately(5.472612, 1e-6);
        DualHeadLosses.BinaryKLNorm(s, t).AsDouble().Should().BeApproximately(5.205370, 1e-6);

        var s2 = cat(new[] { Row(Aux, ScalarType.Float64), s }, 0);
        var t2 = cat(new[] { Row(Teacher, ScalarType.Float64), t }, 0);
        DualHeadLosses.BinaryKLNorm(s2, t2).AsDouble().Should().BeApproximately(3.242936, 1e-6);
        DualHeadLosses.BinaryKL(s2, t2).AsDouble().Should().BeApproximately(3.370608, 1e-6);

        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            var huge = tensor(new[] { 80.0 }, new long[] { 1, 1 }).to_type(dtype).requires_grad_();
            var zero = zeros(new long[] { 1, 1 }, dtype);
            DualHeadLosses.BinaryKLNorm(huge, zero).AsDouble().Should().BeApproximately(77.227411, 1e-4);
            var clamped = DualHeadLosses.BinaryKLNorm(huge, zero, clampMode: LogitClampMode.ReferenceClamp);
            clamped.AsDouble().Should().BeApproximately(34.068773, 1e-4);
            clamped.backward();
            huge.grad!.AsDouble().Should().Be(0);
        }
    }

    [Fact]
    public void D9_gradient_alignment_merge_and_write_back()
    {
        using var scope = NewDisposeScope();
        var g1 = tensor(new double[] { 1, 2, 1, 0, 0, 0 });
        var merged = GradientAligner.Merge(g1, tensor(new double[] { 0, 0, -2, 1, 3, -1 }), out bool projected);
        projected.Should().BeTrue();
        Values(merged).Should().Equal(new[] { 1.333333, 2.666667, -0.666667, 1, 3, -1 }, (a, e) => Math.Abs(a - e) < 1e-6);
        Values(GradientAligner.Merge(g1, tensor(new double[] { 0, 0, 2, 1, 3, -1 }), out projected)).Should().Equal(1, 2, 3, 1, 3, -1);
        projected.Should().BeFalse();

        // The same vectors through two backward passes: [main head (2) | backbone (2) | aux head (2)].
        var main = new Parameter(zeros(2, dtype: ScalarType.Float64));
        var backbone = new Parameter(zeros(2, dtype: ScalarType.Float64));
        var aux = new Parameter(zeros(2, dtype: ScalarType.Float64));
        var ce = main.dot(tensor(new double[] { 1, 2 })).Plus(backbone.dot(tensor(new double[] { 1, 0 })));
        var auxLoss = backbone.dot(tensor(new double[] { -2, 1 })).Plus(aux.dot(tensor(new double[] { 3, -1 })));
        var aligner = new GradientAligner(new[] { main, backbone, aux });
        aligner.Backward(ce, auxLoss).Should().BeTrue();
        Values(cat(new[] { main.grad!, backbone.grad!, aux.grad! }, 0)).Should().Equal(new[] { 1.333333, 2.666667, -0.666667, 1, 3, -1 }, (a, e) => Math.Abs(a - e) < 1e-6);
    }

    public static TheoryData<string, double, LogitClampMode> GradientCases() => new()
    {
        { "BinaryKLNorm", 2, LogitClampMode.None },
        { "BinaryKLNorm", 0.5, LogitClampMode.ReferenceClamp },
        { "BinaryKL", 2, LogitClampMode.None },
        { "BinaryKL", 0.3, LogitClampMode.ReferenceClamp },
        { "SoftmaxKD", 4, LogitClampMode.None },
        { "SoftmaxKD", 1, LogitClampMode.None },
        { "CrossEntropy", 1, LogitClampMode.None },
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradients_match_central_finite_differences_in_float64(string loss, double temperature, LogitClampMode clamp)
    {
        using var scope = NewDisposeScope();
        var g = new Random(loss.Length + (int)(temperature * 10));
        // Spread wide enough that some clamped cases saturate (x beyond ±18.4), away from the clamp boundary.
        var s0 = Enumerable.Range(0, 12).Select(_ => Math.Round((g.NextDouble() - 0.5) * 16, 1) + 0.05).ToArray();
        var t = tensor(Enumerable.Range(0, 12).Select(_ => Math.Round((g.NextDouble() - 0.5) * 16, 1)).ToArray(), new long[] { 3, 4 });
        var labels = tensor(new long[] { 0, 3, 1 });
        Tensor F(Tensor s) => loss switch
        {
            "BinaryKLNorm" => DualHeadLosses.BinaryKLNorm(s, t, temperature, clamp),
            "BinaryKL" => DualHeadLosses.BinaryKL(s, t, temperature, clamp),
            "SoftmaxKD" => DualHeadLosses.SoftmaxKD(s, t, temperature),
            _ => DualHeadLosses.CrossEntropy(s, labels),
        };
        var x = tensor(s0, new long[] { 3, 4 }).requires_grad_();
        F(x).backward();
        var analytic = Values(x.grad!);
        var numeric = ReferenceDistillation.FiniteDifference(v => F(tensor(v, new long[] { 3, 4 })).AsDouble(), s0);
        for (int i = 0; i < analytic.Length; i++)
        {
            analytic[i].Should().BeApproximately(numeric[i], 1e-7 + (1e-6 * Math.Abs(numeric[i])), $"element {i}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(2, 67)]
    [InlineData(3, 129)]
    [InlineData(2, 4097)]
    [InlineData(2, 151936)]
    public void Losses_match_the_cpu_reference_on_random_batches(int rows, int classes)
    {
        using var scope = NewDisposeScope();
        var s = ReferenceDistillation.FiniteLogits(rows, classes, classes * 5);
        var t = ReferenceDistillation.FiniteLogits(rows, classes, (classes * 5) + 1);
        Array.Fill(s, 0.75f, 0, classes);
        Array.Fill(t, 0.75f, 0, classes); // an all-equal row, identical in both
        var labels = Enumerable.Range(0, rows).Select(n => (n * 31) % classes).ToArray();
        var shape = new long[] { rows, classes };
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            var st = tensor(s, shape).to_type(dtype);
            var tt = tensor(t, shape).to_type(dtype);
            foreach (var clamp in new[] { LogitClampMode.None, LogitClampMode.ReferenceClamp })
            {
                Check(DualHeadLosses.BinaryKLNorm(st, tt, 2, clamp), DualHeadKd.BinaryKLNorm(s, t, classes, 2, clamp), dtype, "BinaryKL-Norm");
                Check(DualHeadLosses.BinaryKL(st, tt, 2, clamp), DualHeadKd.BinaryKL(s, t, classes, 2, clamp), dtype, "BinaryKL");
            }

            // Log-domain results carry float32 rounding of the scaled logits: each log-probability is off by up to a few
            // ulps of max|z/T|, and the KL multiplies that by |log p_t − log p_s|, so float32 gets an extra relative
            // allowance of 4·2⁻²³·max|z/T| (about 2e-5 for the ±1e4-range rows at T = 4); float64 gets plain 1e-5.
            double logScale = Math.Max(1, s.Concat(t).Max(v => Math.Abs(v)));
            Check(DualHeadLosses.SoftmaxKD(st, tt, 4), DualHeadKd.SoftmaxKD(s, t, classes, 4), dtype, "Softmax KD", 1, logScale / 4);
            Check(DualHeadLosses.CrossEntropy(st, tensor(labels.Select(l => (long)l).ToArray())), DualHeadKd.CrossEntropy(s, labels, classes), dtype, "CE", 1, logScale);
        }
    }

    [Fact]
    public void Token_level_inputs_use_the_valid_positions_and_count_them_as_N()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var s = randn(2, 3, 5, dtype: ScalarType.Float64);
        var t = randn(2, 3, 5, dtype: ScalarType.Float64);
        var y = tensor(new long[] { 0, 1, 99, 4, 99, 99 }, new long[] { 2, 3 }); // unmarked labels may be anything
        var valid = tensor(new[] { true, true, false, true, false, false }, new long[] { 2, 3 });
        var rows = tensor(new long[] { 0, 1, 3 });
        var sFlat = s.reshape(6, 5).index_select(0, rows);
        var tFlat = t.reshape(6, 5).index_select(0, rows);
        var yFlat = tensor(new long[] { 0, 1, 4 });
        DualHeadLosses.BinaryKLNorm(s, t, validPositions: valid).AsDouble().Should().BeApproximately(DualHeadLosses.BinaryKLNorm(sFlat, tFlat).AsDouble(), 1e-12);
        DualHeadLosses.BinaryKL(s, t, validPositions: valid).AsDouble().Should().BeApproximately(DualHeadLosses.BinaryKL(sFlat, tFlat).AsDouble(), 1e-12);
        DualHeadLosses.SoftmaxKD(s, t, validPositions: valid).AsDouble().Should().BeApproximately(DualHeadLosses.SoftmaxKD(sFlat, tFlat).AsDouble(), 1e-12);
        DualHeadLosses.CrossEntropy(s, y, validPositions: valid).AsDouble().Should().BeApproximately(DualHeadLosses.CrossEntropy(sFlat, yFlat).AsDouble(), 1e-12);
        using var total = new DualHeadKdLoss().Compute(s, s, t, y, validPositions: valid);
        total.Total.AsDouble().Should().BeApproximately(DualHeadLosses.CrossEntropy(sFlat, yFlat).AsDouble() + DualHeadLosses.BinaryKLNorm(sFlat, tFlat).AsDouble(), 1e-12);
        FluentActions.Invoking(() => DualHeadLosses.BinaryKLNorm(s, t, validPositions: zeros(2, 3))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("validPositions");
        FluentActions.Invoking(() => DualHeadLosses.BinaryKLNorm(s, t, validPositions: ones(2, 2))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("validPositions");
    }

    [Fact]
    public void Binary_kl_norm_is_symmetric_zero_at_equal_logits_and_finite_for_gaps_of_1e4()
    {
        using var scope = NewDisposeScope();
        var a = tensor(new float[] { 1e4f, -1e4f, 3, 0, -7 }, new long[] { 1, 5 }).requires_grad_();
        var b = tensor(new float[] { -1e4f, 1e4f, -2, 0, 5 }, new long[] { 1, 5 });
        var ab = DualHeadLosses.BinaryKLNorm(a, b);
        ab.AsDouble().Should().BeApproximately(DualHeadLosses.BinaryKLNorm(b, a).AsDouble(), 1e-3);
        DualHeadLosses.BinaryKLNorm(a, a.detach()).AsDouble().Should().Be(0);
        double.IsFinite(ab.AsDouble()).Should().BeTrue();
        ab.backward();
        Values(a.grad!).Should().OnlyContain(v => double.IsFinite(v));
        var bkl = DualHeadLosses.BinaryKL(a, b);
        double.IsFinite(bkl.AsDouble()).Should().BeTrue();
    }

    [Fact]
    public void Classifier_evaluation_and_prediction_use_the_main_head_only()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = DualHeadClassifier.Create(nn.Sequential(nn.Linear(4, 6), nn.ReLU()), 6, 3, DualHeadKdOptions.Cifar100Heterogeneous);
        var x = randn(5, 4);
        var (main, auxiliary) = model.call(x);
        main.shape.Should().Equal(5, 3);
        auxiliary!.shape.Should().Equal(5, 3);

        // Poison the auxiliary head: inference must not read it.
        using (no_grad())
        {
            foreach (var p in model.AuxiliaryHead.parameters())
            {
                p.FillInPlace(double.NaN);
            }
        }

        model.eval();
        var evaluation = model.call(x);
        evaluation.Auxiliary.Should().BeNull();
        isfinite(evaluation.Main).all().item<bool>().Should().BeTrue();
        model.train();
        model.Predict(x).allclose(evaluation.Main).Should().BeTrue();
        isnan(model.call(x).Auxiliary!).any().item<bool>().Should().BeTrue();
        var exported = model.ExportInferenceModel();
        exported.parameters().Count().Should().Be(model.Backbone.parameters().Count() + model.MainHead.parameters().Count());
        exported.eval();
        exported.call(x).allclose(evaluation.Main).Should().BeTrue();
    }

    [Fact]
    public void Each_head_gets_only_its_own_loss_gradient_and_the_teacher_none()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var model = DualHeadClassifier.Create(nn.Linear(4, 6), 6, 3);
        using var teacher = nn.Linear(4, 3);
        var x = randn(8, 4);
        var y = tensor(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 });
        var loss = new DualHeadKdLoss();

        var (z0, z1) = model.call(x);
        Tensor zt;
        using (no_grad())
        {
            zt = teacher.call(x);
        }

        using var result = loss.Compute(z0, z1!, zt, y);
        result.CrossEntropy.backward(retain_graph: true);
        GradNorms(model.AuxiliaryHead).Should().OnlyContain(v => v == 0);
        GradNorms(model.MainHead).Should().Contain(v => v > 0);
        model.zero_grad();
        result.Auxiliary.backward();
        GradNorms(model.MainHead).Should().OnlyContain(v => v == 0);
        GradNorms(model.AuxiliaryHead).Should().Contain(v => v > 0);
        GradNorms(model.Backbone).Should().Contain(v => v > 0);
        teacher.parameters().Select(p => p.grad is null).Should().OnlyContain(isNull => isNull);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_short_seeded_training_run_reduces_the_loss(bool alignment)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var options = new DualHeadKdOptions(auxiliaryHead: alignment ? AuxiliaryHeadKind.NonLinear : AuxiliaryHeadKind.Linear, nonLinearHiddenWidth: 16, gradientAlignment: alignment);
        using var model = DualHeadClassifier.Create(nn.Sequential(nn.Linear(5, 12), nn.ReLU()), 12, 4, options);
        using var teacher = nn.Linear(5, 4);
        teacher.eval();
        var x = randn(32, 5);
        Tensor zt;
        using (no_grad())
        {
            zt = teacher.call(x).Times(3);
        }

        var y = zt.argmax(1);
        var loss = new DualHeadKdLoss(options);
        var parameters = model.parameters().ToArray();
        using var optimizer = new HeldScalarAdamW(parameters, 0.02);
        var aligner = new GradientAligner(parameters);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.ZeroGrad();
            var (z0, z1) = model.call(x);
            using var result = loss.Compute(z0, z1!, zt, y);
            if (options.GradientAlignment)
            {
                aligner.Backward(result.CrossEntropy, result.Auxiliary);
            }
            else
            {
                result.Total.backward();
            }

            optimizer.Step();
            last = result.Total.AsDouble();
            if (step == 0)
            {
                first = last;
            }
        }

        last.Should().BeLessThan(first * 0.7, $"first {first}, last {last}");
        model.eval();
        var accuracy = model.Predict(x).argmax(1).eq(y).to_type(ScalarType.Float32).mean().AsDouble();
        accuracy.Should().BeGreaterThan(0.6);
    }

    [Fact]
    public void Invalid_inputs_are_rejected()
    {
        using var scope = NewDisposeScope();
        var z = Row(Aux, ScalarType.Float32);
        FluentActions.Invoking(() => DualHeadLosses.BinaryKLNorm(z, Row(new[] { 0, double.PositiveInfinity, 0 }, ScalarType.Float32))).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => DualHeadLosses.BinaryKL(z, zeros(1, 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("teacher");
        FluentActions.Invoking(() => DualHeadLosses.SoftmaxKD(z, z, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("kdTemperature");
        FluentActions.Invoking(() => DualHeadLosses.BinaryKLNorm(z.reshape(3), z.reshape(3))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("student");
        FluentActions.Invoking(() => DualHeadLosses.CrossEntropy(z, tensor(new long[] { 3 }))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("labels");
        FluentActions.Invoking(() => DualHeadLosses.CrossEntropy(z, tensor(new long[] { 0, 1 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("labels");
        FluentActions.Invoking(() => new DualHeadKdLoss().Compute(z, zeros(2, 3), z, tensor(new long[] { 0 }))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("auxiliaryLogits");
        FluentActions.Invoking(() => DualHeadClassifier.Create(nn.Identity(), 0, 3)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("featureDimension");
        FluentActions.Invoking(() => new GradientAligner(Array.Empty<Parameter>())).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Losses_leave_no_live_tensors()
    {
        var s = Row(Aux, ScalarType.Float32).requires_grad_();
        var t = Row(Teacher, ScalarType.Float32);
        var y = tensor(new long[] { 2 });
        var loss = new DualHeadKdLoss(new DualHeadKdOptions(clampMode: LogitClampMode.ReferenceClamp));
        void Run()
        {
            using (var a = DualHeadLosses.BinaryKLNorm(s, t, 2, LogitClampMode.ReferenceClamp))
            using (var b = DualHeadLosses.BinaryKL(s, t))
            using (var c = DualHeadLosses.SoftmaxKD(s, t))
            using (var d = DualHeadLosses.CrossEntropy(s, y))
            using (var r = loss.Compute(s, s, t, y))
            {
                r.Total.backward();
            }

            using var bad = tensor(new long[] { 5 });
            Assert.Throws<ArgumentOutOfRangeException>(() => DualHeadLosses.CrossEntropy(s, bad));
        }

        Run();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            Run();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
        s.IsInvalid.Should().BeFalse();
        t.IsInvalid.Should().BeFalse();
    }

    private static void Check(Tensor actual, double expected, ScalarType dtype, string what, double scale = 0, double logitScale = 0)
    {
        double value = actual.AsDouble();
        // float64 matches to 1e-5 relative; float32 to 1e-5·max(1, |x|) plus the log-domain allowance.
        bool ok = dtype == ScalarType.Float64
            ? Tolerance.Close(value, expected, scale)
            : Math.Abs(value - expected) <= (1e-5 * Math.Max(Math.Max(1, scale), Math.Abs(expected))) + (4 * Math.Pow(2, -23) * logitScale * Math.Abs(expected));
        ok.Should().BeTrue($"{what} ({dtype}): expected {expected:R}, got {value:R}");
    }

    private static double[] GradNorms(nn.Module module) =>
        module.parameters().Select(p => p.grad is null ? 0 : p.grad.abs().sum().AsDouble()).ToArray();

    private static Tensor Row(double[] values, ScalarType dtype) => tensor(values, new long[] { 1, values.Length }).to_type(dtype);

    private static double[] Values(Tensor t) => t.to_type(ScalarType.Float64).data<double>().ToArray();
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Distillation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Distillation;

/// <summary>
/// Dual-Head KD's CPU losses (docs/algorithms/paper-methods.md#dual-head-kd): the reference vectors, the scalar double reference over random batches,
/// gradients against finite differences, properties, and invalid input. Batch overloads run on every backend.
/// </summary>
public abstract class DualHeadKdTests
{
    private static readonly double[] Aux = { 1, 2, 3 };
    private static readonly double[] Teacher = { 0, 1, 0 };

    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Fact]
    public void D1_binary_kl_norm()
    {
        var gradient = new double[3];
        DualHeadKd.BinaryKLNorm(Aux, Teacher, 3, 2, LogitClampMode.None, gradient).Should().BeApproximately(1.280503, 1e-6);
        gradient.Should().Equal(new[] { 0.244919, 0.244919, 0.635149 }, (a, e) => Math.Abs(a - e) < 1e-6);
        DualHeadKd.BinaryKLNorm(Aux, Teacher, 3, 2, LogitClampMode.ReferenceClamp).Should().BeApproximately(1.280503, 1e-6);
        // Per-class terms log cosh(Δ/4).
        new[] { 1.0, 1, 3 }.Select(d => ReferenceDistillation.LogCosh(d / 4)).Should().Equal(new[] { 0.030930, 0.030930, 0.258266 }, (a, e) => Math.Abs(a - e) < 1e-6);
        using var s = Create(F(Aux), 1, 3);
        using var t = Create(F(Teacher), 1, 3);
        DualHeadKd.BinaryKLNorm(s, t, 2).Should().BeApproximately(1.280503, 1e-6);
    }

    [Fact]
    public void D2_binary_kl()
    {
        var gradient = new double[3];
        DualHeadKd.BinaryKL(Aux, Teacher, 3, 2, LogitClampMode.None, gradient).Should().BeApproximately(1.268604, 1e-6);
        gradient.Should().Equal(new[] { 0.244919, 0.217198, 0.635149 }, (a, e) => Math.Abs(a - e) < 1e-6);
        using var s = Create(F(Aux), 1, 3);
        using var t = Create(F(Teacher), 1, 3);
        DualHeadKd.BinaryKL(s, t, 2).Should().BeApproximately(1.268604, 1e-6);
    }

    [Fact]
    public void D3_softmax_kd_and_D4_cross_entropy()
    {
        DualHeadKd.SoftmaxKD(Aux, Teacher, 3, 4).Should().BeApproximately(0.448256, 1e-6);
        DualHeadKd.SoftmaxKD(Aux, Teacher, 3, 2).Should().BeApproximately(0.447297, 1e-6);
        DualHeadKd.CrossEntropy(Aux, new[] { 2 }, 3).Should().BeApproximately(0.407606, 1e-6);
        using var s = Create(F(Aux), 1, 3);
        using var t = Create(F(Teacher), 1, 3);
        DualHeadKd.SoftmaxKD(s, t, 4).Should().BeApproximately(0.448256, 1e-6);
        DualHeadKd.CrossEntropy(s, new[] { 2 }).Should().BeApproximately(0.407606, 1e-6);
    }

    [Theory]
    [InlineData(1.0, null, null, 1.688109)]
    [InlineData(0.1, null, null, 0.535656)]
    [InlineData(1.0, 50, 50, 0.407606)]
    [InlineData(1.0, 50, 49, 1.688109)]
    public void D5_total_loss(double alpha, int? stopEpoch, int? epoch, double expected)
    {
        var options = new DualHeadKdOptions(alpha: alpha, auxiliaryStopEpoch: stopEpoch);
        var value = DualHeadKd.TotalLoss(F(Aux), F(Aux), F(Teacher), new[] { 2 }, 3, options, epoch);
        value.Total.Should().BeApproximately(expected, 1e-6);
        value.CrossEntropy.Should().BeApproximately(0.407606, 1e-6);
        value.Total.Should().BeApproximately(value.CrossEntropy + value.Auxiliary, 1e-12);
        DualHeadKdOptions.ImageNet.AlphaAt(50).Should().Be(0);
        DualHeadKdOptions.ImageNet.AlphaAt(49).Should().Be(0.1);
    }

    [Fact]
    public void D6_logit_information_that_softmax_hides_and_D7_batch_of_two()
    {
        double[] s = { 2, 3, 4 }, t = { -2, -1, 0 };
        DualHeadKd.SoftmaxKD(s, t, 3, 4).Should().BeApproximately(0, 1e-12);
        DualHeadKd.BinaryKL(s, t, 3, 2).Should().BeApproximately(5.472612, 1e-6);
        DualHeadKd.BinaryKLNorm(s, t, 3, 2).Should().BeApproximately(5.205370, 1e-6);

        using var sb = Create(F(Aux.Concat(s).ToArray()), 2, 3);
        using var tb = Create(F(Teacher.Concat(t).ToArray()), 2, 3);
        DualHeadKd.BinaryKLNorm(sb, tb, 2).Should().BeApproximately(3.242936, 1e-6);
        DualHeadKd.BinaryKL(sb, tb, 2).Should().BeApproximately(3.370608, 1e-6);
    }

    [Fact]
    public void D8_huge_gap()
    {
        var gradient = new double[1];
        DualHeadKd.BinaryKLNorm(new[] { 80.0 }, new[] { 0.0 }, 1, 2).Should().BeApproximately(77.227411, 1e-6);
        DualHeadKd.BinaryKLNorm(new[] { 80.0 }, new[] { 0.0 }, 1, 2, LogitClampMode.ReferenceClamp, gradient).Should().BeApproximately(34.068773, 1e-6);
        gradient[0].Should().Be(0);
        DualHeadKd.ReferenceClampBound.Should().BeApproximately(18.420681, 1e-6);
        ReferenceDistillation.LogCosh(DualHeadKd.ReferenceClampBound / 2).Should().BeApproximately(8.517193, 1e-6);
    }

    [Fact]
    public void D9_gradient_alignment()
    {
        double[] g1 = { 1, 2, 1, 0, 0, 0 };
        var merged = new double[6];
        GradientAlignment.Merge(g1, new double[] { 0, 0, -2, 1, 3, -1 }, merged).Should().BeTrue();
        merged.Should().Equal(new[] { 1.333333, 2.666667, -0.666667, 1, 3, -1 }, (a, e) => Math.Abs(a - e) < 1e-6);
        GradientAlignment.Merge(g1, new double[] { 0, 0, 2, 1, 3, -1 }, merged).Should().BeFalse();
        merged.Should().Equal(1, 2, 3, 1, 3, -1);
        GradientAlignment.Merge(new double[6], new double[] { 0, 0, 2, 1, 3, -1 }, merged).Should().BeFalse();
        merged.Should().Equal(0, 0, 2, 1, 3, -1);
    }

    [Fact]
    public void Binary_kl_norm_is_symmetric_zero_at_equal_logits_and_finite_for_huge_gaps()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            var a = Enumerable.Range(0, 7).Select(_ => (rng.NextDouble() - 0.5) * 40).ToArray();
            var b = Enumerable.Range(0, 7).Select(_ => (rng.NextDouble() - 0.5) * 40).ToArray();
            double temperature = 0.5 + (rng.NextDouble() * 4);
            DualHeadKd.BinaryKLNorm(a, b, 7, temperature).Should().BeApproximately(DualHeadKd.BinaryKLNorm(b, a, 7, temperature), 1e-12);
            DualHeadKd.BinaryKLNorm(a, a, 7, temperature).Should().Be(0);
            DualHeadKd.BinaryKLNorm(a, b, 7, temperature).Should().BeGreaterThan(0);
        }

        var gradient = new double[2];
        double huge = DualHeadKd.BinaryKLNorm(new[] { 1e4, -1e4 }, new[] { 0.0, 0.0 }, 2, 2, LogitClampMode.None, gradient);
        double.IsFinite(huge).Should().BeTrue();
        huge.Should().BeApproximately(4 * 2 * ((1e4 / 4) - Math.Log(2)), 1e-6);
        gradient.Should().Equal(1, -1); // T/(2N) tanh(±2500) = ±1 with T = 2, N = 1
        DualHeadKd.BinaryKL(new[] { 1e4f, -1e4f }, new[] { -1e4f, 1e4f }, 2, 2).Should().Match(v => double.IsFinite(v));
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var rng = new Random(11);
        var s = Enumerable.Range(0, 12).Select(_ => (rng.NextDouble() - 0.5) * 8).ToArray();
        var t = Enumerable.Range(0, 12).Select(_ => (rng.NextDouble() - 0.5) * 8).ToArray();
        int[] labels = { 0, 3, 2 };
        var g = new double[12];
        DualHeadKd.BinaryKLNorm(s, t, 4, 1.5, LogitClampMode.None, g);
        g.Should().Equal(ReferenceDistillation.FiniteDifference(x => DualHeadKd.BinaryKLNorm(x, t, 4, 1.5), s), (a, e) => Math.Abs(a - e) < 1e-7);
        DualHeadKd.BinaryKL(s, t, 4, 1.5, LogitClampMode.None, g);
        g.Should().Equal(ReferenceDistillation.FiniteDifference(x => DualHeadKd.BinaryKL(x, t, 4, 1.5), s), (a, e) => Math.Abs(a - e) < 1e-7);
        DualHeadKd.SoftmaxKD(s, t, 4, 3, g);
        g.Should().Equal(ReferenceDistillation.FiniteDifference(x => DualHeadKd.SoftmaxKD(x, t, 4, 3), s), (a, e) => Math.Abs(a - e) < 1e-7);
        DualHeadKd.CrossEntropy(s, labels, 4, g);
        g.Should().Equal(ReferenceDistillation.FiniteDifference(x => DualHeadKd.CrossEntropy(x, labels, 4), s), (a, e) => Math.Abs(a - e) < 1e-7);
    }

    /// <summary>Class counts of the reference comparison: 1..67, the vector-width edges and 151936.</summary>
    public static TheoryData<int, int> RandomShapes() => AlignDistilTests.RandomShapes();

    [Theory]
    [MemberData(nameof(RandomShapes))]
    public void Losses_match_the_reference_on_random_batches(int rows, int classes)
    {
        var s = ReferenceDistillation.FiniteLogits(rows, classes, classes * 17);
        var t = ReferenceDistillation.FiniteLogits(rows, classes, (classes * 17) + 1);
        if (rows > 1)
        {
            for (int i = 0; i < classes; i++)
            {
                s[i] = 2.5f;
                t[i] = 2.5f; // an all-equal row, identical in both
            }
        }

        var labels = Enumerable.Range(0, rows).Select(n => (n * 7919) % classes).ToArray();
        var sd = s.Select(v => (double)v).ToArray();
        var td = t.Select(v => (double)v).ToArray();
        using var sb = Create(s, rows, classes);
        using var tb = Create(t, rows, classes);
        foreach (double temperature in new[] { 2.0, 0.7 })
        {
            foreach (var clamp in new[] { LogitClampMode.None, LogitClampMode.ReferenceClamp })
            {
                bool c = clamp == LogitClampMode.ReferenceClamp;
                AssertClose(DualHeadKd.BinaryKLNorm(sb, tb, temperature, clamp), ReferenceDistillation.BinaryKLNorm(sd, td, classes, temperature, c), "BinaryKL-Norm");
                AssertClose(DualHeadKd.BinaryKL(sb, tb, temperature, clamp), ReferenceDistillation.BinaryKL(sd, td, classes, temperature, c), "BinaryKL");
            }

            AssertClose(DualHeadKd.SoftmaxKD(sb, tb, temperature * 2), ReferenceDistillation.SoftmaxKD(sd, td, classes, temperature * 2), "Softmax KD", 1e-6);
        }

        AssertClose(DualHeadKd.CrossEntropy(sb, labels), ReferenceDistillation.CrossEntropy(sd, labels, classes), "CE", 1e-6);
    }

    [Fact]
    public void Invalid_inputs_are_rejected()
    {
        FluentActions.Invoking(() => DualHeadKd.BinaryKLNorm(new[] { 1.0, double.NegativeInfinity }, new[] { 0.0, 0 }, 2, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("student");
        FluentActions.Invoking(() => DualHeadKd.BinaryKL(new[] { 1.0, 2 }, new[] { 0.0, double.NaN }, 2, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("teacher");
        FluentActions.Invoking(() => DualHeadKd.SoftmaxKD(new[] { 1.0, 2, 3 }, new[] { 0.0, 1 }, 3, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("teacher");
        FluentActions.Invoking(() => DualHeadKd.SoftmaxKD(new[] { 1.0, 2, 3 }, new[] { 0.0, 1, 2 }, 2, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("student");
        FluentActions.Invoking(() => DualHeadKd.BinaryKLNorm(new[] { 1.0 }, new[] { 0.0 }, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("temperature");
        FluentActions.Invoking(() => DualHeadKd.SoftmaxKD(new[] { 1.0 }, new[] { 0.0 }, 1, -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("kdTemperature");
        FluentActions.Invoking(() => DualHeadKd.CrossEntropy(new[] { 1.0, 2 }, new[] { 2 }, 2)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("labels");
        FluentActions.Invoking(() => DualHeadKd.CrossEntropy(new[] { 1.0, 2 }, new[] { -1 }, 2)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("labels");
        FluentActions.Invoking(() => DualHeadKd.CrossEntropy(new[] { 1.0, 2 }, new[] { 0, 1 }, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("labels");
        FluentActions.Invoking(() => GradientAlignment.Merge(new double[2], new double[3], new double[3])).Should().Throw<ArgumentException>();
        using var a = Create(new[] { 1f, 2f }, 1, 2);
        using var b = Create(new[] { 1f, 2f }, 2, 1);
        FluentActions.Invoking(() => DualHeadKd.BinaryKLNorm(a, b, 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("teacher");
    }

    public static TheoryData<Func<DualHeadKdOptions>, string> InvalidOptions() => new()
    {
        { () => new DualHeadKdOptions(gamma: -1), "gamma" },
        { () => new DualHeadKdOptions(alpha: double.NaN), "alpha" },
        { () => new DualHeadKdOptions(temperature: 0), "temperature" },
        { () => new DualHeadKdOptions(kdTemperature: double.PositiveInfinity), "kdTemperature" },
        { () => new DualHeadKdOptions(auxiliaryLoss: (DualHeadAuxiliaryLoss)5), "auxiliaryLoss" },
        { () => new DualHeadKdOptions(clampMode: (LogitClampMode)2), "clampMode" },
        { () => new DualHeadKdOptions(auxiliaryHead: (AuxiliaryHeadKind)2), "auxiliaryHead" },
        { () => new DualHeadKdOptions(nonLinearHiddenWidth: 0), "nonLinearHiddenWidth" },
        { () => new DualHeadKdOptions(nonLinearDropout: 1), "nonLinearDropout" },
        { () => new DualHeadKdOptions(auxiliaryStopEpoch: 0), "auxiliaryStopEpoch" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Invalid_options_name_the_parameter(Func<DualHeadKdOptions> create, string paramName) =>
        create.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(paramName);

    [Fact]
    public void Presets_carry_the_recipes()
    {
        DualHeadKdOptions.Cifar100.Alpha.Should().Be(1);
        DualHeadKdOptions.Cifar100.Temperature.Should().Be(2);
        DualHeadKdOptions.Cifar100.AuxiliaryHead.Should().Be(AuxiliaryHeadKind.Linear);
        DualHeadKdOptions.Cifar100Heterogeneous.AuxiliaryHead.Should().Be(AuxiliaryHeadKind.NonLinear);
        DualHeadKdOptions.Cifar100Heterogeneous.GradientAlignment.Should().BeTrue();
        DualHeadKdOptions.ImageNet.Alpha.Should().Be(0.1);
        DualHeadKdOptions.ImageNet.AuxiliaryStopEpoch.Should().Be(50);
    }

    private static void AssertClose(double actual, double expected, string what, double scale = 0)
    {
        if (!Tolerance.Close(actual, expected, scale))
        {
            throw new Xunit.Sdk.XunitException($"{what}: expected {expected:R}, got {actual:R}.");
        }
    }

    private static float[] F(double[] x) => x.Select(v => (float)v).ToArray();
}

/// <summary>Dual-Head KD's CPU losses on <see cref="CpuLogitBatch"/>.</summary>
public sealed class CpuDualHeadKdTests : DualHeadKdTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

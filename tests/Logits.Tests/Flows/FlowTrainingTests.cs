using System;
using System.Linq;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Flows.Training;
using Logits.Randomness;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Flows;

/// <summary>
/// Training-side math (docs/algorithms/flows.md): interpolation, targets, losses,
/// time samplers (with Kolmogorov–Smirnov tests), rfpp weights, reflow pairs and distillation. Backend-neutral.
/// </summary>
public abstract class FlowTrainingTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private static void Near(double actual, double expected, double tolerance = 1e-6) =>
        actual.Should().BeApproximately(expected, tolerance * Math.Max(1, Math.Abs(expected)));

    [Fact]
    public void Interpolation_target_and_squared_error_match_spec_8_1()
    {
        using var x0 = Create(new float[] { 1, -1 }, 1, 2);
        using var x1 = Create(new float[] { 3, 2 }, 1, 2);
        using var xt = x0.CreateLike();
        using var u = x0.CreateLike();
        RectifiedFlowTargets.Interpolate(x0, x1, 0.25, xt);
        xt.ToArray().Should().Equal(1.5f, -0.25f);
        RectifiedFlowTargets.Interpolate(x0, x1, new float[] { 0.25f }, xt);
        xt.ToArray().Should().Equal(1.5f, -0.25f);
        RectifiedFlowTargets.VelocityTarget(x0, x1, u);
        u.ToArray().Should().Equal(2f, 3f);
        using var prediction = Create(new float[] { 1.5f, 3.5f }, 1, 2);
        var loss = new double[1];
        FlowLoss.SquaredError(prediction, u, loss);
        Near(loss[0], 0.25);
        FlowLoss.SquaredError(prediction, u, loss, FlowLossReduction.SumOverElements);
        Near(loss[0], 0.5);
    }

    [Fact]
    public void Per_row_interpolation_matches_the_float64_reference()
    {
        var random = new Xoshiro256StarStar(3);
        foreach (int d in new[] { 1, 2, 7, 33, 129 })
        {
            int rows = 5;
            var a = new float[rows * d];
            var b = new float[rows * d];
            GaussianMixture.StandardNormal(d).Sample(random, a);
            GaussianMixture.StandardNormal(d).Sample(random, b);
            var t = new float[] { 0, 1, 0.5f, 0.123f, 0.999f };
            using var x0 = Create(a, rows, d);
            using var x1 = Create(b, rows, d);
            using var xt = x0.CreateLike();
            RectifiedFlowTargets.Interpolate(x0, x1, t, xt);
            var actual = xt.ToArray();
            for (int r = 0; r < rows; r++)
            {
                for (int i = 0; i < d; i++)
                {
                    int j = (r * d) + i;
                    double expected = (t[r] * (double)b[j]) + ((1 - (double)t[r]) * a[j]);
                    double scale = Math.Max(Math.Abs(a[j]), Math.Abs(b[j]));
                    actual[j].Should().BeApproximately((float)expected, (float)(1e-6 * Math.Max(1, scale)));
                }
            }
        }
    }

    [Fact]
    public void Extrapolated_endpoint_is_constant_along_the_exact_gaussian_path()
    {
        // N(0, I) → N(μ, I) reference: at t = 0.5, Z_t = (2.707107, −1.414214), v* = (4, 0), x̂1 = (4.707107, −1.414214).
        var field = GaussianMixtureFlow.GaussianShift(4, 0);
        using var z = Create(new float[] { 2.707107f, -1.414214f }, 1, 2);
        using var v = z.CreateLike();
        field.Evaluate(z, 0.5, v);
        using var xhat = z.CreateLike();
        RectifiedFlowTargets.ExtrapolatedEndpoint(z, v, 0.5, xhat);
        var values = xhat.ToArray();
        Near(values[0], 4.707107, 1e-5);
        Near(values[1], -1.414214, 1e-5);
    }

    public static TheoryData<double[], double, double, double> HuberTable() => new()
    {
        { new[] { 0.1, -0.2, 0, 0.3 }, 0.001080, 0.373087, 0.093003 },
        { Enumerable.Repeat(0.1, 3072).ToArray(), 0.029930, 5.512714, 0.001343 },
        { Enumerable.Repeat(0.01, 3072).ToArray(), double.NaN, 0.525134, 0.0000293436 },
        { Enumerable.Repeat(1e-4, 4).ToArray(), double.NaN, 0.0000183624, 0.00000230987 },
        { new double[4], double.NaN, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(HuberTable))]
    public void Pseudo_huber_matches_spec_8_7(double[] residual, double c, double h, double official)
    {
        var loss = new PseudoHuberLoss();
        if (!double.IsNaN(c))
        {
            Near(loss.Constant(residual.Length), c, 1e-4);
        }

        // Vectors are rounded to 6 decimals, except the tiny ones, which are given to 6 significant digits.
        static double Tol(double e) => Math.Max(1e-5 * Math.Abs(e), Math.Abs(e) >= 1e-3 ? 5e-7 : 1e-15);
        loss.Evaluate(residual).Should().BeApproximately(h, Tol(h));
        new PseudoHuberLoss(constant: PseudoHuberConstant.OfficialRfppCode).Evaluate(residual).Should().BeApproximately(official, Tol(official));

        // The batch form on this backend (float32 residuals).
        using var prediction = Create(residual.Select(x => (float)x).ToArray(), 1, residual.Length);
        using var target = prediction.CreateLike();
        var perRow = new double[1];
        loss.Evaluate(prediction, target, perRow);
        perRow[0].Should().BeApproximately(h, 1e-5 * Math.Max(1e-4, h));
        loss.Evaluate(prediction, target, perRow, new float[] { 0.7f });
        perRow[0].Should().BeApproximately(0.7 * h, 1e-5 * Math.Max(1e-4, h));
    }

    [Fact]
    public void Pseudo_huber_mixed_settings_gradient_cancellation_and_elementwise()
    {
        var r = new[] { 0.1, -0.2, 0, 0.3 };
        Near(new PseudoHuberLoss(reduction: PseudoHuberReduction.DivideByDimension).Evaluate(r), 0.093272);
        Near(PseudoHuberLoss.WithExplicitC(0.00054 * 4).Evaluate(r), 0.372012);
        var gradient = new double[4];
        new PseudoHuberLoss().Gradient(r, gradient);
        gradient.Zip(new[] { 0.267260, -0.534520, 0, 0.801780 }).Should().OnlyContain(p => Math.Abs(p.First - p.Second) < 1e-6);
        PseudoHuberLoss.Stable(1e-20, 0.00108).Should().BeApproximately(4.629630e-18, 1e-24);
        PseudoHuberLoss.Stable(1e-24, 0.00108).Should().BeApproximately(4.629630e-22, 1e-28);
        Near(new ElementwisePseudoHuberLoss().Evaluate(new[] { 0.1, 0.0 }), 0.049502);
    }

    [Fact]
    public void Rfpp_weights_follow_library_time()
    {
        RfppWeights.Huber(0.7).Should().Be(0.7);
        RfppWeights.Perceptual(0.7, divideByNoiseTime: false).Should().Be(1);
        Near(RfppWeights.Perceptual(0.7, divideByNoiseTime: true), 3.333333);
        FluentActions.Invoking(() => RfppWeights.Perceptual(0.7, true, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("delta");
        FluentActions.Invoking(() => RfppWeights.Perceptual(1, true)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("t");
    }

    [Fact]
    public void Edm_mapping_matches_spec_4_4()
    {
        EdmMapping.Sigma(0.5).Should().Be(1);
        EdmMapping.InputScale(0.5).Should().Be(2);
        Near(EdmMapping.Sigma(0.2), 4);
        FluentActions.Invoking(() => EdmMapping.Sigma(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("t");
        FluentActions.Invoking(() => EdmMapping.InputScale(0.5, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("delta");
    }

    [Fact]
    public void U_shaped_density_cdf_and_inverse_match_spec_8_6()
    {
        var p = new[] { (0.0, 2.074629), (0.1, 1.421320), (0.25, 0.850918), (0.5, 0.551441), (0.75, 0.850918), (0.9, 1.421320), (1.0, 2.074629) };
        foreach (var (t, expected) in p)
        {
            Near(UShapedTimeSampler.Density(t, 4), expected);
        }

        foreach (var (t, expected) in new[] { (0.1, 0.172504), (0.25, 0.337986), (0.5, 0.5), (0.75, 0.662014), (0.9, 0.827496) })
        {
            Near(UShapedTimeSampler.Cdf(t, 4), expected);
        }

        var u = new[] { 0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1 };
        var inverse = new[] { 0, 0.025292, 0.053294, 0.160764, 0.5, 0.839236, 0.946706, 0.974708, 1 };
        var squeezed = new[] { 0.00001, 0.025301, 0.053303, 0.160771, 0.5, 0.839229, 0.946697, 0.974699, 0.99999 };
        var sampler = new UShapedTimeSampler();
        for (int i = 0; i < u.Length; i++)
        {
            Near(UShapedTimeSampler.InverseCdf(u[i], 4), inverse[i]);
            Near(sampler.Quantile(u[i]), squeezed[i]);
        }

        Near(UShapedTimeSampler.InverseCdf(0.1, 0.5), 0.098522);
        Near(UShapedTimeSampler.InverseCdf(0.1, 2), 0.080789);
        Near(UShapedTimeSampler.InverseCdf(0.1, 8), 0.027869);
        Near(UShapedTimeSampler.InverseCdf(0.25, 0.5), 0.248055);
        Near(UShapedTimeSampler.InverseCdf(0.25, 2), 0.220918);
        Near(UShapedTimeSampler.InverseCdf(0.25, 8), 0.086518);
        Near(UShapedTimeSampler.InverseCdf(0.1, 2000), 0.000112);
        Near(UShapedTimeSampler.InverseCdf(0.3, 0), 0.3);
        Near(UShapedTimeSampler.Cdf(0.1, 4) + 1 - UShapedTimeSampler.Cdf(0.9, 4), 0.345007);
        Near(UShapedTimeSampler.TruncatedExponentialInverse(0.5, 4), 0.831251);
        double q(double s) => 4 * Math.Exp(4 * s) / double.ExpM1(4);
        Near((0.5 * q(0.1)) + (0.5 * q(0.9)), 1.421320);
    }

    [Fact]
    public void U_shaped_sampler_passes_kolmogorov_smirnov_tests_that_uniform_fails()
    {
        const int n = 100_000;
        var sampler = new UShapedTimeSampler();
        var random = new Xoshiro256StarStar(2024);
        var ours = new double[n];
        var official = new double[n];
        var uniform = new double[n];
        for (int i = 0; i < n; i++)
        {
            ours[i] = sampler.Sample(random);

            // The official code's path: truncated exponential, random mirror, squeeze.
            double s = UShapedTimeSampler.TruncatedExponentialInverse(random.NextDouble(), 4);
            official[i] = UShapedTimeSampler.Squeeze(random.NextDouble() < 0.5 ? s : 1 - s, 1e-5);
            uniform[i] = random.NextDouble();
        }

        // One-sample KS against F: the 0.1% critical value is 1.95/√n ≈ 0.0062.
        double critical = 1.95 / Math.Sqrt(n);
        OneSampleKs(ours, t => UShapedTimeSampler.Cdf(Math.Clamp((t - 1e-5) / (1 - 2e-5), 0, 1), 4)).Should().BeLessThan(critical);
        OneSampleKs(uniform, t => UShapedTimeSampler.Cdf(t, 4)).Should().BeGreaterThan(10 * critical);
        TwoSampleKs(ours, official).Should().BeLessThan(0.01);
        TwoSampleKs(uniform, official).Should().BeGreaterThan(0.05);
    }

    [Fact]
    public void Uniform_logit_normal_and_fixed_samplers()
    {
        var random = new Xoshiro256StarStar(5);
        var uniform = new UniformTimeSampler();
        var draws = Enumerable.Range(0, 20_000).Select(_ => uniform.Sample(random)).ToArray();
        draws.Min().Should().BeGreaterThanOrEqualTo(1e-3);
        draws.Max().Should().BeLessThan(1);
        OneSampleKs(draws, t => Math.Clamp((t - 1e-3) / (1 - 1e-3), 0, 1)).Should().BeLessThan(1.95 / Math.Sqrt(draws.Length));

        var logitNormal = new LogitNormalTimeSampler(0, 1);
        var ln = Enumerable.Range(0, 20_000).Select(_ => logitNormal.Sample(random)).ToArray();
        ((double)ln.Count(t => t < 0.5) / ln.Length).Should().BeApproximately(0.5, 0.015);
        ((double)ln.Count(t => t < 1 / (1 + Math.Exp(-1))) / ln.Length).Should().BeApproximately(0.841345, 0.015);
        Near(logitNormal.Density(0.5), 4 / Math.Sqrt(2 * Math.PI));

        var times = new float[3];
        new FixedTimeSampler(0.25).Sample(random, times);
        times.Should().Equal(0.25f, 0.25f, 0.25f);
    }

    [Fact]
    public void Reflow_pairs_of_the_gaussian_shift_are_the_straight_coupling()
    {
        // docs/algorithms/flows.md#the-exact-minimiser: the 1-RF coupling of N(0, I) → N(μ, I) is z0 ↦ z0 + μ; its 2-RF target is v ≡ μ everywhere.
        var z0 = new float[] { 1, -2, 0.5f, 0.25f, -1, 3 };
        using var noise = Create(z0, 3, 2);
        var field = VelocityField.Counting(GaussianMixtureFlow.GaussianShift(4, 0));
        using var pairs = ReflowPairs.Generate(field, new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(32)), noise);
        pairs.FunctionEvaluations.Should().Be(128);
        field.Evaluations.Should().Be(128);
        noise.ToArray().Should().Equal(z0);
        pairs.Start.ToArray().Should().Equal(z0);
        var end = pairs.End.ToArray();
        for (int i = 0; i < z0.Length; i++)
        {
            Near(end[i], z0[i] + (i % 2 == 0 ? 4 : 0), 1e-5);
        }

        Near(pairs.TransportCost(), 16, 1e-5);
        using (var adaptive = ReflowPairs.Generate(field, new Dopri5Sampler(), noise))
        {
            var ends = adaptive.End.ToArray();
            for (int i = 0; i < z0.Length; i++)
            {
                Near(ends[i], z0[i] + (i % 2 == 0 ? 4 : 0), 1e-4);
            }
        }

        using var xt = noise.CreateLike();
        using var target = noise.CreateLike();
        pairs.TrainingBatch(new float[] { 0, 0.5f, 1 }, xt, target);
        var u = target.ToArray();
        for (int r = 0; r < 3; r++)
        {
            Near(u[2 * r], 4, 1e-5);
            Near(u[(2 * r) + 1], 0, 1e-5);
        }

        var x = xt.ToArray();
        Near(x[0], 1, 1e-5);
        Near(x[2], 2.5, 1e-5);
        Near(x[4], 3, 1e-5);
    }

    [Fact]
    public void Distillation_pieces()
    {
        FlowDistillation.KStepTimes(4, 0).Should().Equal(0, 0.25, 0.5, 0.75);
        FlowDistillation.KStepTimes(2).Should().Equal(1e-3, 1e-3 + (0.999 / 2));
        using var z0 = Create(new float[] { 1, -2 }, 1, 2);
        using var prediction = z0.CreateLike();
        FlowDistillation.OneStepPrediction(GaussianMixtureFlow.GaussianShift(4, 0), z0, prediction);
        prediction.ToArray().Should().Equal(4f, 0f);
        FluentActions.Invoking(() => FlowDistillation.OneStepPrediction(GaussianMixtureFlow.GaussianShift(4, 0), z0, z0)).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => FlowDistillation.KStepTimes(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("k");
    }

    [Fact]
    public void Invalid_parameters_throw_with_the_parameter_name()
    {
        FluentActions.Invoking(() => new UShapedTimeSampler(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("a");
        FluentActions.Invoking(() => new UShapedTimeSampler(double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("a");
        FluentActions.Invoking(() => new UShapedTimeSampler(4, 0.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("delta");
        FluentActions.Invoking(() => UShapedTimeSampler.InverseCdf(1.5, 4)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("u");
        FluentActions.Invoking(() => new UniformTimeSampler(1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("epsilon");
        FluentActions.Invoking(() => new LogitNormalTimeSampler(0, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scale");
        FluentActions.Invoking(() => new PseudoHuberLoss(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("factor");
        FluentActions.Invoking(() => PseudoHuberLoss.WithExplicitC(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("c");
        FluentActions.Invoking(() => new ElementwisePseudoHuberLoss(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("c");
        FluentActions.Invoking(() => new PseudoHuberLoss().Evaluate(ReadOnlySpan<double>.Empty)).Should().Throw<ArgumentException>();
        using var a = Create(new float[] { 1, 2 }, 1, 2);
        using var b = Create(new float[] { 1, 2, 3 }, 1, 3);
        FluentActions.Invoking(() => RectifiedFlowTargets.Interpolate(a, b, 0.5, a)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("x1");
        FluentActions.Invoking(() => RectifiedFlowTargets.Interpolate(a, a, 1.5, a)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("t");
        FluentActions.Invoking(() => RectifiedFlowTargets.Interpolate(a, a, new float[] { 0.5f, 0.5f }, a)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("t");
        FluentActions.Invoking(() => FlowLoss.SquaredError(a, a, new double[2])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
    }

    private static double OneSampleKs(double[] sample, Func<double, double> cdf)
    {
        var sorted = sample.OrderBy(x => x).ToArray();
        double d = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            double f = cdf(sorted[i]);
            d = Math.Max(d, Math.Max(((i + 1.0) / sorted.Length) - f, f - ((double)i / sorted.Length)));
        }

        return d;
    }

    private static double TwoSampleKs(double[] a, double[] b)
    {
        var x = a.OrderBy(v => v).ToArray();
        var y = b.OrderBy(v => v).ToArray();
        int i = 0, j = 0;
        double d = 0;
        while (i < x.Length && j < y.Length)
        {
            double v = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] <= v)
            {
                i++;
            }

            while (j < y.Length && y[j] <= v)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / x.Length) - ((double)j / y.Length)));
        }

        return d;
    }
}

public sealed class CpuFlowTrainingTests : FlowTrainingTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

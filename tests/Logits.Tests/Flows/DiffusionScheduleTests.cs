using System;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Schedules;
using Logits.Flows.Testing;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Flows;

/// <summary>
/// Rectified Diffusion schedules, conversions, DDIM and matched pairs (docs/algorithms/flows.md#rectified-diffusion). Schedule values are
/// float64; batch operations run on the backend under test (float32, tolerance 1e-5 relative with floor 1).
/// </summary>
public abstract class DiffusionScheduleTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private static void Near(double actual, double expected, double tolerance = 1e-6) =>
        actual.Should().BeApproximately(expected, tolerance * Math.Max(1, Math.Abs(expected)));

    private LogitBatch Scalar(double value) => Create(new[] { (float)value }, 1, 1);

    private static INoisePredictor Constant(float value) => NoisePredictor.FromDelegate((_, _, d) => d.CopyFrom(new[] { value }));

    [Fact]
    public void Continuous_vp_and_sub_vp_match_spec_8_8()
    {
        var vp = new VpSchedule();
        var sub = new VpSchedule(subVp: true);
        var table = new[] { (0.0, 0.006572, 0.999978, 0.999957), (0.25, 0.058664, 0.998278, 0.996559), (0.5, 0.281183, 0.959654, 0.920936), (0.75, 0.723657, 0.690160, 0.476320), (1.0, 1, 0, 0) };
        foreach (var (t, alpha, sigmaVp, sigmaSub) in table)
        {
            Near(vp.Alpha(t), alpha);
            Near(vp.Sigma(t), sigmaVp);
            Near(sub.Sigma(t), sigmaSub);
        }

        Near(vp.Alpha(0.3), 0.084353);
        Near(vp.Sigma(0.3), 0.996436);
        Near(vp.AlphaDerivative(0.3), 0.591733);
        Near(vp.SigmaDerivative(0.3), -0.050093);

        // Derivatives agree with central differences for both paths.
        foreach (var schedule in new DiffusionSchedule[] { vp, sub, LinearFlowSchedule.Instance })
        {
            foreach (double t in new[] { 0.1, 0.5, 0.9 })
            {
                Near(schedule.AlphaDerivative(t), (schedule.Alpha(t + 1e-6) - schedule.Alpha(t - 1e-6)) / 2e-6, 1e-6);
                Near(schedule.SigmaDerivative(t), (schedule.Sigma(t + 1e-6) - schedule.Sigma(t - 1e-6)) / 2e-6, 1e-6);
            }
        }
    }

    public static TheoryData<string, int, double, double, double> DiscreteTable() => new()
    {
        { "ddpm", 0, 0.999900, 0.999950, 0.010000 },
        { "ddpm", 249, 0.524085, 0.723937, 0.689866 },
        { "ddpm", 499, 0.078587, 0.280334, 0.959902 },
        { "ddpm", 749, 0.003351, 0.057884, 0.998323 },
        { "ddpm", 999, 0.000040, 0.006353, 0.999980 },
        { "sd", 0, 0.999150, 0.999575, 0.029155 },
        { "sd", 249, 0.570866, 0.755557, 0.655083 },
        { "sd", 499, 0.161812, 0.402259, 0.915526 },
        { "sd", 749, 0.022729, 0.150761, 0.988570 },
        { "sd", 999, 0.001579, 0.039736, 0.999210 },
        { "scaled", 249, 0.675432, 0.821847, 0.569708 },
        { "scaled", 499, 0.277670, 0.526944, 0.849900 },
        { "scaled", 999, 0.004660, 0.068265, 0.997667 },
        { "cosine", 0, 0.999959, 0.999979, 0.006425 },
        { "cosine", 249, 0.847012, 0.920333, 0.391137 },
        { "cosine", 499, 0.493844, 0.702740, 0.711447 },
        { "cosine", 749, 0.144272, 0.379832, 0.925056 },
        { "cosine", 999, 0.000000, 0.000049, 1.000000 },
    };

    private static DiscreteSchedule Preset(string name, FinalAlpha final = FinalAlpha.One) => name switch
    {
        "ddpm" => DiscreteSchedule.DdpmLinear(finalAlpha: final),
        "sd" => DiscreteSchedule.StableDiffusionLinear(final),
        "scaled" => DiscreteSchedule.ScaledLinear(finalAlpha: final),
        _ => DiscreteSchedule.Cosine(finalAlpha: final),
    };

    [Theory]
    [MemberData(nameof(DiscreteTable))]
    public void Discrete_presets_match_spec_8_8(string preset, int k, double alphaBar, double alpha, double sigma)
    {
        var schedule = Preset(preset);
        double t = 1 - ((k + 1) / 1000.0);
        schedule.IndexOf(t).Should().Be(k);
        Near(schedule.AlphaBar(k), alphaBar);
        Near(schedule.Alpha(t), alpha);
        Near(schedule.Sigma(t), sigma);
    }

    [Fact]
    public void Cosine_continuous_and_discrete_agree_and_only_the_last_beta_is_clipped()
    {
        var cosine = DiscreteSchedule.Cosine();
        Near(DiscreteSchedule.CosineAlphaBar(0.25), cosine.AlphaBar(249));
        Near(DiscreteSchedule.CosineAlphaBar(0.5), cosine.AlphaBar(499));
        Near(DiscreteSchedule.CosineAlphaBar(0.75), cosine.AlphaBar(749));
        (cosine.AlphaBar(999) / cosine.AlphaBar(998)).Should().BeApproximately(0.001, 1e-12);
        (cosine.AlphaBar(998) / cosine.AlphaBar(997)).Should().BeGreaterThan(0.001);
    }

    [Fact]
    public void Trailing_grids_round_half_to_even()
    {
        var sd = DiscreteSchedule.StableDiffusionLinear();
        sd.TrailingIndices(1).Should().Equal(999, -1);
        sd.TrailingIndices(4).Should().Equal(999, 749, 499, 249, -1);
        sd.TrailingIndices(8).Should().Equal(999, 874, 749, 624, 499, 374, 249, 124, -1);
        sd.TrailingIndices(16)[..5].Should().Equal(999, 937, 874, 811, 749);
        sd.TrailingIndices(3).Should().Equal(999, 666, 332, -1);
        sd.SamplingTimes(4).Should().Equal(0, 0.25, 0.5, 0.75, 1);
    }

    [Fact]
    public void Conversions_match_spec_8_8()
    {
        var vp = new VpSchedule();
        double t = 0.3;
        double xt = (vp.Alpha(t) * 0.7) + (vp.Sigma(t) * -0.4);
        Near(xt, -0.339528);
        using var x0 = Scalar(0.7);
        using var eps = Scalar(-0.4);
        using var u = Scalar(0);
        PredictionConversions.VelocityFromPair(x0, eps, t, vp, u);
        Near(u.ToArray()[0], 0.434250, 1e-5);
        using var x = Scalar(xt);
        using var back = Scalar(0);
        PredictionConversions.DataFromVelocity(x, u, t, vp, back);
        Near(back.ToArray()[0], 0.7, 1e-5);
        PredictionConversions.NoiseFromVelocity(x, u, t, vp, back);
        Near(back.ToArray()[0], -0.4, 1e-5);
        PredictionConversions.DataFromNoise(x, eps, t, vp, back);
        Near(back.ToArray()[0], 0.7, 1e-4);
        PredictionConversions.NoiseFromData(x, x0, t, vp, back);
        Near(back.ToArray()[0], -0.4, 1e-5);
        using var v = Scalar((vp.Alpha(t) * -0.4) - (vp.Sigma(t) * 0.7));
        PredictionConversions.DataFromDiffusersV(x, v, t, vp, back);
        Near(back.ToArray()[0], 0.7, 1e-5);
    }

    [Theory]
    [InlineData(FinalAlpha.AlphaBarZero, 1.014152289)]
    [InlineData(FinalAlpha.One, 1.0)]
    public void Ddim_with_constant_noise_is_step_count_invariant_on_sd_linear(FinalAlpha final, double expected)
    {
        var schedule = DiscreteSchedule.StableDiffusionLinear(final);
        double start = (schedule.Alpha(0) * 1) + (schedule.Sigma(0) * 0.5);
        Near(start, 0.539341270);
        foreach (int n in new[] { 1, 2, 4, 8 })
        {
            using var state = Scalar(start);
            var result = new DdimSampler(schedule, n).Sample(Constant(0.5f), state);
            result.FunctionEvaluations.Should().Be(n);
            Near(state.ToArray()[0], expected, 1e-5);
        }
    }

    [Theory]
    [InlineData(false, 0.506561)]
    [InlineData(true, 0.506550)]
    public void Ddim_with_constant_noise_recovers_the_data_on_continuous_paths(bool subVp, double start)
    {
        var schedule = new VpSchedule(subVp: subVp);
        Near((schedule.Alpha(0) * 1) + (schedule.Sigma(0) * 0.5), start);
        foreach (int n in new[] { 1, 3, 10 })
        {
            using var state = Scalar((schedule.Alpha(0) * 1) + (schedule.Sigma(0) * 0.5));

            // 1/α(0) ≈ 152 amplifies the float32 rounding of the start.
            new DdimSampler(schedule, n).Sample(Constant(0.5f), state);
            Near(state.ToArray()[0], 1, 2e-5);
        }
    }

    [Fact]
    public void Single_ddim_steps_match_spec_8_9_in_both_forms()
    {
        var sd = DiscreteSchedule.StableDiffusionLinear();
        var vp = new VpSchedule();
        foreach (var (schedule, x0hat, expected) in new (DiffusionSchedule, double, double)[] { (sd, -12.567095, -4.322804), (vp, -76.082499, -20.625373) })
        {
            // Reference: the x̂0 form and the paper's Eq. 2 form agree to 1e-12 in float64.
            double a = schedule.Alpha(0), s = schedule.Sigma(0), a2 = schedule.Alpha(0.5), s2 = schedule.Sigma(0.5);
            double hat = (0.3 - (s * 0.8)) / a;
            Near(hat, x0hat);
            double form1 = (a2 * hat) + (s2 * 0.8);
            double form2 = (a2 / a * 0.3) + (a2 * 0.8 * ((s2 / a2) - (s / a)));
            Math.Abs(form1 - form2).Should().BeLessThanOrEqualTo(1e-12 * Math.Max(1, Math.Abs(form1)));
            Near(form1, expected);
            using var x = Scalar(0.3);
            using var eps = Scalar(0.8);
            DdimSampler.Step(x, eps, 0, 0.5, schedule, x);
            Near(x.ToArray()[0], expected, 1e-5);
        }
    }

    [Fact]
    public void Ddim_on_linear_flow_with_a_velocity_model_equals_euler()
    {
        var field = GaussianMixtureFlow.GaussianShift(4, 0);
        using var ddim = Create(new float[] { 1, -2 }, 1, 2);
        using var euler = Create(new float[] { 1, -2 }, 1, 2);
        new DdimSampler(LinearFlowSchedule.Instance, 4).SampleWithVelocity(field, ddim);
        FlowSampler.Euler(4).Sample(field, euler);
        var a = ddim.ToArray();
        Near(a[0], 4.72, 1e-5);
        Near(a[1], -1.44, 1e-5);
        euler.ToArray().Should().BeEquivalentTo(a, o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-5f)).WhenTypeIs<float>());
        using var pure = Scalar(0.3);
        FluentActions.Invoking(() => new DdimSampler(LinearFlowSchedule.Instance, 2).Sample(Constant(0), pure))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("t");
    }

    [Fact]
    public void Phase_noise_is_recovered_from_two_points_of_a_first_order_path()
    {
        var sd = DiscreteSchedule.StableDiffusionLinear();
        double ta = sd.TimeOf(749), tb = sd.TimeOf(499);
        double xa = sd.Alpha(ta) + (0.5 * sd.Sigma(ta));
        double xb = sd.Alpha(tb) + (0.5 * sd.Sigma(tb));
        Near(xa, 0.645046);
        Near(xb, 0.860022);
        using var a = Scalar(xa);
        using var b = Scalar(xb);
        using var eps = Scalar(0);
        RectifiedDiffusion.NoiseBetween(a, ta, b, tb, sd, eps);
        Near(eps.ToArray()[0], 0.5, 1e-5);
        FluentActions.Invoking(() => RectifiedDiffusion.NoiseBetween(b, tb, a, ta, sd, eps)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("ta");
    }

    [Fact]
    public void Matched_pair_batches_use_the_pair_noise()
    {
        var vp = new VpSchedule();
        using var data = Create(new float[] { 0.7f, 1, -1, 2 }, 2, 2);
        using var noise = Create(new float[] { -0.4f, 0.1f, 0.3f, -2 }, 2, 2);
        using var xt = data.CreateLike();
        using var target = data.CreateLike();
        RectifiedDiffusion.BuildMatchedPairBatch(data, noise, 0.3, vp, MatchedPairTarget.Epsilon, xt, target);
        Near(xt.ToArray()[0], -0.339528, 1e-5);
        target.ToArray().Should().Equal(noise.ToArray());
        RectifiedDiffusion.BuildMatchedPairBatch(data, noise, 0.3, vp, MatchedPairTarget.Data, xt, target);
        target.ToArray().Should().Equal(data.ToArray());
        RectifiedDiffusion.BuildMatchedPairBatch(data, noise, 0.3, vp, MatchedPairTarget.FlowVelocity, xt, target);
        Near(target.ToArray()[0], 0.434250, 1e-5);
        var sd = DiscreteSchedule.StableDiffusionLinear();
        FluentActions.Invoking(() => RectifiedDiffusion.BuildMatchedPairBatch(data, noise, 0.5, sd, MatchedPairTarget.FlowVelocity, xt, target)).Should().Throw<NotSupportedException>();
    }

    [Fact]
    public void Invalid_input_throws()
    {
        var sd = DiscreteSchedule.StableDiffusionLinear();
        FluentActions.Invoking(() => sd.Alpha(0.0005)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("t");
        FluentActions.Invoking(() => sd.Alpha(1.5)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => sd.AlphaDerivative(0.5)).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => new DdimSampler(sd, 1001)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new DiscreteSchedule(new[] { 0.1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("betas");
        FluentActions.Invoking(() => new DiscreteSchedule(new[] { 0.1, 1.0 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("betas");
        FluentActions.Invoking(() => new VpSchedule(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("betaMin");
        FluentActions.Invoking(() => new VpSchedule(0.1, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("betaMax");
        FluentActions.Invoking(() => DiscreteSchedule.Cosine(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("s");
        FluentActions.Invoking(() => DiscreteSchedule.Cosine(maxBeta: 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxBeta");
    }
}

public sealed class CpuDiffusionScheduleTests : DiffusionScheduleTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using FluentAssertions;
using Logits.Diffusion;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>Schedules, reveal rates, grids and E-NFE (docs/algorithms/discrete-diffusion.md#radd); host-only math, no backend.</summary>
public sealed class MaskingScheduleTests
{
    [Theory]
    [InlineData(0.001, 0.000999, 0.999999, 0.999001, 0.000999, 1000.001001)]
    [InlineData(0.1, 0.105249, 1.109877, 0.900100, 0.099900, 9.010010)]
    [InlineData(0.5, 0.692148, 1.996004, 0.500500, 0.499500, 1.002002)]
    [InlineData(0.9, 2.293625, 9.900892, 0.100900, 0.899100, 0.112223)]
    [InlineData(1.0, 6.907755, 999.000000, 0.001000, 0.999000, 0.001001)]
    public void Log_linear_vectors(double tau, double sigmaBar, double sigma, double expNeg, double mask, double scale)
    {
        var s = new LogLinearSchedule();
        double t = 1 - tau;
        s.CumulativeNoise(t).Should().BeApproximately(sigmaBar, 1e-6);
        s.NoiseRate(t).Should().BeApproximately(sigma, 1e-6 * Math.Max(1, sigma));
        Math.Exp(-s.CumulativeNoise(t)).Should().BeApproximately(expNeg, 1e-6);
        s.MaskProbability(t).Should().BeApproximately(mask, 1e-6);
        s.ScoreScale(t).Should().BeApproximately(scale, 1e-6 * Math.Max(1, scale));
    }

    [Fact]
    public void Concrete_score_and_rates_at_half()
    {
        var s = new LogLinearSchedule();
        double a = s.ScoreScale(0.5);
        (a * 0.5).Should().BeApproximately(0.501001, 1e-6);
        (a * 0.3).Should().BeApproximately(0.300601, 1e-6);
        (a * 0.2).Should().BeApproximately(0.200400, 1e-6);
        s.RevealRate(0.5, 0.75, RaddUpdate.Tweedie).Should().BeApproximately(0.5, 1e-12);
        s.RevealRate(0.5, 0.75, RaddUpdate.Euler).Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Grids_and_reveal_probabilities()
    {
        var sampler = new RaddSampler(4);
        sampler.RevealRates().Should().BeEquivalentTo(new[] { 0.25, 1 / 3.0, 0.5, 1.0 }, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        foreach (double p in sampler.RevealProbabilities())
        {
            p.Should().BeApproximately(0.25, 1e-12);
        }

        var official = new RaddSampler(4, gridEndOffset: 1e-5);
        var rates = official.RevealRates();
        rates[0].Should().BeApproximately(0.2499975, 1e-7);
        rates[1].Should().BeApproximately(0.3333289, 1e-7);
        rates[2].Should().BeApproximately(0.4999900, 1e-7);
        rates[3].Should().Be(1.0);
        var p2 = official.RevealProbabilities();
        p2[0].Should().BeApproximately(0.2499975, 1e-7);
        p2[3].Should().BeApproximately(0.2500075, 1e-7);
    }

    [Fact]
    public void Geometric_rates()
    {
        var g = new GeometricSchedule(1e-4, 20);
        g.CumulativeNoise(0.5).Should().BeApproximately(0.044721, 1e-6);
        g.RevealRate(0.5, 0.75, RaddUpdate.Tweedie).Should().BeApproximately(0.951699, 1e-6);
        g.RevealRate(0.5, 0.75, RaddUpdate.Euler).Should().Be(1.0, "Euler's 2.983793 is clamped");
    }

    [Theory]
    [InlineData(256, 1024, 251.35, 2.057)]
    [InlineData(512, 1024, 442.84, 6.414)]
    [InlineData(1024, 1024, 647.48, 9.978)]
    [InlineData(2048, 1024, 805.98, 10.585)]
    [InlineData(4096, 1024, 906.13, 9.192)]
    public void Expected_nfe_curve(int n, int l, double expected, double std)
    {
        RaddNfe.Expected(n, l).Should().BeApproximately(expected, 0.005);
        Math.Sqrt(RaddNfe.Variance(n, l)).Should().BeApproximately(std, 0.0005);
    }

    [Theory]
    [InlineData(4, 8, 3.599548, 0.286965)]
    [InlineData(8, 4, 3.310547, 0.417233)]
    [InlineData(16, 4, 3.640381, 0.283028)]
    [InlineData(4, 4, 2.734375, 0.413818)]
    [InlineData(2, 4, 1.875000, 0.109375)]
    [InlineData(1, 4, 1.000000, 0)]
    [InlineData(64, 4, 3.907223, 0.087557)]
    public void Expected_nfe_small(int n, int l, double expected, double variance)
    {
        RaddNfe.Expected(n, l).Should().BeApproximately(expected, 1e-6);
        RaddNfe.Variance(n, l).Should().BeApproximately(variance, 1e-6);
        RaddNfe.Expected(new RaddSampler(n).RevealProbabilities(), l).Should().BeApproximately(RaddNfe.Expected(n, l), 1e-12);
    }

    [Fact]
    public void Expected_nfe_official_grid()
    {
        RaddNfe.Expected(new RaddSampler(1024, gridEndOffset: 1e-5).RevealProbabilities(), 1024).Should().BeApproximately(647.4754, 1e-4);
        RaddNfe.Expected(1024, 1024).Should().BeApproximately(647.4755, 1e-4);
        RaddNfe.Expected(1 << 20, 128).Should().BeApproximately(128, 0.01, "E-NFE tends to l");
    }

    [Fact]
    public void Invalid_parameters()
    {
        FluentActions.Invoking(() => new LogLinearSchedule(1.0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("floor");
        FluentActions.Invoking(() => new LogLinearSchedule(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("floor");
        FluentActions.Invoking(() => new GeometricSchedule(0, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sigmaMin");
        FluentActions.Invoking(() => new GeometricSchedule(2, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sigmaMax");
        FluentActions.Invoking(() => new RaddSampler(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new RaddSampler((1 << 30) + 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new RaddSampler(4, gridEndOffset: 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gridEndOffset");
        FluentActions.Invoking(() => new RaddSampler(4, method: (RaddUpdate)7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("method");
        FluentActions.Invoking(() => RaddNfe.Expected(0, 4)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new LogLinearSchedule().CumulativeNoise(1.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("t");
    }
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Choice;
using Xunit;

namespace Logits.Tests.Choice;

/// <summary>MNL choice probabilities with an outside option: worked vectors, a float64 reference, extreme logits, invalid input.</summary>
public sealed class MnlTests
{
    [Theory]
    [InlineData(0, 0.473991, 0.287490, 0.064148, 0.174371)]
    [InlineData(1, 0.364715, 0.221211, 0.049359, 0.364715)]
    public void Vectors(double outside, double p1, double p2, double p3, double p0)
    {
        var p = new double[3];
        double outsideProbability = Mnl.ChoiceProbabilities(new[] { 1, 0.5, -1 }, p, outside);
        p[0].Should().BeApproximately(p1, 1e-6);
        p[1].Should().BeApproximately(p2, 1e-6);
        p[2].Should().BeApproximately(p3, 1e-6);
        outsideProbability.Should().BeApproximately(p0, 1e-6);
        (p.Sum() + outsideProbability).Should().BeApproximately(1, 1e-15);
    }

    [Fact]
    public void Extreme_logits()
    {
        var p = new double[2];
        Mnl.ChoiceProbabilities(new double[] { 1000, 999 }, p).Should().BeApproximately(0, 1e-300);
        p[0].Should().BeApproximately(0.731059, 1e-6);
        p[1].Should().BeApproximately(0.268941, 1e-6);

        Mnl.ChoiceProbabilities(new double[] { -800, -801 }, p).Should().Be(1);
        p.Should().Equal(0, 0);
        var log = new double[2];
        Mnl.LogChoiceProbabilities(new double[] { -800, -801 }, log).Should().Be(0);
        log[0].Should().BeApproximately(-800, 1e-6);
        log[1].Should().BeApproximately(-801, 1e-6);

        double rho = Mnl.LoneItemLogit(0.3);
        rho.Should().BeApproximately(-0.847298, 1e-6);
        var lone = new double[1];
        Mnl.ChoiceProbabilities(new[] { rho }, lone);
        lone[0].Should().BeApproximately(0.3, 1e-15);
        Mnl.LoneItemLogit(0).Should().Be(double.NegativeInfinity);

        Mnl.ChoiceProbabilities(ReadOnlySpan<double>.Empty, Span<double>.Empty).Should().Be(1);
        var partial = new double[3];
        Mnl.ChoiceProbabilities(new[] { 0, double.NegativeInfinity, 0 }, partial).Should().BeApproximately(1.0 / 3, 1e-15);
        partial[1].Should().Be(0);
        var plain = new double[3];
        Mnl.ChoiceProbabilitiesWithoutOutside(new[] { 0, double.NegativeInfinity, Math.Log(3) }, plain);
        plain[0].Should().BeApproximately(0.25, 1e-15);
        plain[1].Should().Be(0);
        plain[2].Should().BeApproximately(0.75, 1e-15);

        // In place.
        var inPlace = new[] { 1, 0.5, -1 };
        Mnl.ChoiceProbabilities(inPlace, inPlace);
        inPlace[0].Should().BeApproximately(0.473991, 1e-6);
    }

    [Fact]
    public void Matches_a_float64_reference()
    {
        var rng = new Random(6);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(0, 70);
            var rho = Enumerable.Range(0, n).Select(_ => rng.Next(10) == 0 ? double.NegativeInfinity : (rng.NextDouble() * 20) - 10).ToArray();
            double outside = (rng.NextDouble() * 6) - 3;
            var p = new double[n];
            double p0 = Mnl.ChoiceProbabilities(rho, p, outside);
            double denominator = Math.Exp(outside) + rho.Sum(Math.Exp);
            p0.Should().BeApproximately(Math.Exp(outside) / denominator, 1e-12);
            for (int i = 0; i < n; i++)
            {
                p[i].Should().BeApproximately(Math.Exp(rho[i]) / denominator, 1e-12);
            }
        }
    }

    [Fact]
    public void Invalid_input()
    {
        var p = new double[2];
        FluentActions.Invoking(() => Mnl.ChoiceProbabilities(new[] { 0, double.NaN }, new double[2])).Should().Throw<InvalidLogitsException>().Which.TokenIndex.Should().Be(1);
        FluentActions.Invoking(() => Mnl.ChoiceProbabilities(new[] { double.PositiveInfinity, 0 }, new double[2])).Should().Throw<InvalidLogitsException>();
        FluentActions.Invoking(() => Mnl.ChoiceProbabilities(new[] { 0.0, 0 }, new double[3])).Should().Throw<ArgumentException>().WithParameterName("destination");
        foreach (double outside in new[] { double.NaN, double.NegativeInfinity, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => Mnl.ChoiceProbabilities(new[] { 0.0, 0 }, new double[2], outside)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outsideLogit");
        }

        FluentActions.Invoking(() => Mnl.ChoiceProbabilitiesWithoutOutside(new[] { double.NegativeInfinity }, new double[1])).Should().Throw<NoViableTokenException>();
        FluentActions.Invoking(() => Mnl.ChoiceProbabilitiesWithoutOutside(ReadOnlySpan<double>.Empty, Span<double>.Empty)).Should().Throw<NoViableTokenException>();
        foreach (double probability in new[] { -0.1, 1, double.NaN })
        {
            FluentActions.Invoking(() => Mnl.LoneItemLogit(probability)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        }
    }
}

using System;
using FluentAssertions;
using Logits.Diffusion;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>Loss weights and time samplers (docs/algorithms/discrete-diffusion.md#training-losses); host-only float64 math.</summary>
public sealed class MaskedTokenLossTests
{
    private const double Nll = 2.0794415416798357; // -ln 0.5 - ln 0.25

    [Fact]
    public void Spec_vectors()
    {
        var s = new LogLinearSchedule();
        Nll.Should().BeApproximately(2.079442, 1e-6);
        (MaskedTokenLoss.LambdaWeight(0.5) * Nll).Should().BeApproximately(4.158883, 1e-6);
        (MaskedTokenLoss.AnyOrderWeight(4, 2) * Nll).Should().BeApproximately(4.158883, 1e-6);
        MaskedTokenLoss.TimeWeight(s, 0.5).Should().BeApproximately(2.0, 1e-12);
        (MaskedTokenLoss.TimeWeight(s, 0.5) * Nll).Should().BeApproximately(4.158883, 1e-6);
        MaskedTokenLoss.TimeWeight(s, 0.9).Should().BeApproximately(10.0, 1e-9);
        MaskedTokenLoss.TimeWeight(s, 0.75).Should().BeApproximately(4.0, 1e-9);
        MaskedTokenLoss.TimeWeight(s, 0.1).Should().BeApproximately(1.111111, 1e-6);
        MaskedTokenLoss.ScoreEntropy(s, 0.5, 0.3).Should().BeApproximately(2.407946, 1e-6);
        MaskedTokenLoss.LladaWeight(0.25).Should().Be(4);
    }

    [Fact]
    public void Low_discrepancy_times()
    {
        var t = new double[4];
        MaskedTokenLoss.LowDiscrepancyTimes(0.1, t);
        double[] tau = { 0.1, 0.35, 0.6, 0.85 };
        for (int i = 0; i < 4; i++)
        {
            t[i].Should().BeApproximately(1 - (((1 - 1e-3) * tau[i]) + 1e-3), 1e-12);
        }
    }

    [Fact]
    public void Invalid_parameters()
    {
        FluentActions.Invoking(() => MaskedTokenLoss.LambdaWeight(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("lambda");
        FluentActions.Invoking(() => MaskedTokenLoss.AnyOrderWeight(4, 5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("masked");
        FluentActions.Invoking(() => MaskedTokenLoss.LladaWeight(1.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("p");
        FluentActions.Invoking(() => MaskedTokenLoss.ScoreEntropy(new LogLinearSchedule(), 0.5, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("trueTokenProbability");
        FluentActions.Invoking(() => MaskedTokenLoss.LowDiscrepancyTimes(0.5, new double[2], 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("tauMin");
    }
}

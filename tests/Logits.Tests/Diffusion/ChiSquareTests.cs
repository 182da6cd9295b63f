using FluentAssertions;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>The test helper's chi-square p-value against its thresholds and known quantiles.</summary>
public sealed class ChiSquareTests
{
    [Theory]
    [InlineData(124.839224, 80, 1e-3)]
    [InlineData(112.328793, 80, 1e-2)]
    [InlineData(3.841459, 1, 0.05)]
    [InlineData(7.814728, 3, 0.05)]
    [InlineData(16.266236, 3, 1e-3)]
    [InlineData(0.5, 2, 0.778800783)]
    public void P_values(double statistic, int df, double expected)
    {
        ChiSquare.PValue(statistic, df).Should().BeApproximately(expected, expected * 1e-5);
    }

    [Fact]
    public void Pools_small_cells_and_flags_impossible_outcomes()
    {
        var r = ChiSquare.Test(new long[] { 50, 48, 1, 1 }, new[] { 0.5, 0.48, 0.01, 0.01 });
        r.DegreesOfFreedom.Should().Be(2);
        r.Rejects(1e-3).Should().BeFalse();
        ChiSquare.Test(new long[] { 50, 49, 1 }, new[] { 0.5, 0.5, 0.0 }).Rejects(1e-3).Should().BeTrue();
    }
}

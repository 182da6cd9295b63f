using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using Logits.Samples.ReflowToy2D;
using Xunit;

namespace Logits.TorchSharp.Tests.Samples;

/// <summary>The ReflowToy2D sample in <c>--quick</c> mode, in-process: it runs end to end, reflow straightens, PNGs are valid.</summary>
public sealed class ReflowToy2DTests
{
    [Fact]
    public void Quick_run_straightens_the_flow_and_writes_pngs()
    {
        string dir = Path.Combine(Path.GetTempPath(), "reflow-toy-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var log = new StringWriter();
            var reports = ReflowToy.Run(new[] { "--quick", "--experiment", "triangle", "--out", dir }, log);
            reports.Should().ContainSingle();
            var report = reports[0];
            report.OneRectified.Straightness.Should().BeGreaterThan(0);
            double.IsFinite(report.TwoRectified.Straightness).Should().BeTrue();

            // Quick mode is far from converged, so the checks are loose versions of the toy's smoke assertions.
            report.TwoRectified.Straightness.Should().BeLessThan(0.2 * report.OneRectified.Straightness);
            report.TwoRectified.EnergyDistance[0].Should().BeLessThan(0.5 * report.OneRectified.EnergyDistance[0]);
            report.TwoRectified.TransportCost.Should().BeLessThanOrEqualTo(report.OneRectified.TransportCost + 1);
            report.OneRectified.TransportCost.Should().BeLessThan(0.5 * report.IndependentCost);
            log.ToString().Should().Contain("| 2-RF |");

            var pngs = Directory.GetFiles(dir, "*.png");
            pngs.Should().HaveCount(3);
            foreach (var png in pngs)
            {
                File.ReadAllBytes(png).Take(8).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
            }
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    // Issue 14, first contact: --help threw ArgumentException; unknown or malformed arguments must print the usage and
    // exit with 2 before any work starts.
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--seed", "x")]
    [InlineData("--seed")]
    [InlineData("--experiment", "circle")]
    public void A_wrong_command_line_prints_the_usage_and_exits_with_2(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        ReflowToy.Execute(args, output, error: error).Should().Be(2);
        error.ToString().Should().Contain("Usage:");
        output.ToString().Should().BeEmpty("nothing ran");
    }

    [Fact]
    public void Help_prints_the_usage_and_exits_with_0()
    {
        using var output = new StringWriter();
        ReflowToy.Execute(new[] { "--help" }, output).Should().Be(0);
        output.ToString().Should().Contain("--experiment NAME").And.Contain("samples-output");
    }
}

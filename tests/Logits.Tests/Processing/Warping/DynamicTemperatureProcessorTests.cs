using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Warping;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.Tests.Processing.Truncation;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Warping;

/// <summary>Dynamic temperature (docs/algorithms/warping.md#dynamic-temperature) on every backend.</summary>
public abstract class DynamicTemperatureProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private static void AssertClose(float[] actual, double[] expected, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            Tolerance.Close(actual[i], expected[i]).Should().BeTrue($"{what}: token {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Fact]
    public void Spec_vectors()
    {
        double hn = 1.147800 / Math.Log(6);
        hn.Should().BeApproximately(0.640599, 1e-6);
        DynamicTemperatureProcessor.TemperatureFor(1, 0.5, 1, hn).Should().BeApproximately(1.140599, 1e-6);
        DynamicTemperatureProcessor.TemperatureFor(1, 0.5, 2, hn).Should().BeApproximately(0.910368, 1e-6);

        AssertClose(Run(Create, new DynamicTemperatureProcessor(1f, 0.5f), B),
            new[] { 2.630196, 1.753464, 0.876732, 0.438366, 0, -0.876732, double.NegativeInfinity }, "exponent 1");
        AssertClose(Run(Create, new DynamicTemperatureProcessor(1f, 0.5f, 2f), B),
            B.Select(z => z / 0.910368).ToArray(), "exponent 2");
    }

    [Fact]
    public void Delta_zero_is_plain_temperature_including_the_greedy_rule()
    {
        foreach (float t in new[] { 0.5f, 2f, 0f, -1f, 1e-6f })
        {
            var expected = Run(Create, new TemperatureProcessor(t), B);
            Run(Create, new DynamicTemperatureProcessor(t, 0f), B).Should().Equal(expected, $"T0 {t}");
        }

        Run(Create, new DynamicTemperatureProcessor(0f, 0f), new[] { 2f, 5f, 5f }).Should().Equal(float.NegativeInfinity, 5f, float.NegativeInfinity);
        var processor = new DynamicTemperatureProcessor(1f, 0.5f);
        processor.IsArgmaxInvariant.Should().BeTrue();
        processor.Name.Should().Be("dynamic-temperature");
    }

    [Fact]
    public void Single_finite_token_is_a_no_op()
    {
        var single = new[] { float.NegativeInfinity, 7f, float.NegativeInfinity };
        Run(Create, new DynamicTemperatureProcessor(0f, 0f), single).Should().Equal(single);
        Run(Create, new DynamicTemperatureProcessor(0.3f, 0.2f), new[] { 4f }).Should().Equal(4f);
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        (float T0, float Delta)[] settings = { (1f, 0.5f), (0.8f, 0.3f), (0.2f, 1f), (1.5f, 0f), (0f, 0f), (2f, 1.9f) };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 6));
            foreach (float exponent in new[] { 1f, 2f, 0.5f })
            {
                var pick = Enumerable.Range(0, rows).Select(r => settings[(r + (int)(exponent * 2)) % settings.Length]).ToArray();
                var output = Run(Create, new DynamicTemperatureProcessor(pick.Select(p => (double)p.T0).ToArray(), pick.Select(p => (double)p.Delta).ToArray(), exponent), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var input = LogitData.Row(data, vocab, r);
                    var expected = ReferenceTruncation.DynamicTemperature(input, pick[r].T0, pick[r].Delta, exponent, out double t);
                    if (!double.IsNaN(t) && Math.Abs(t - 1e-5) < 1e-9)
                    {
                        continue;
                    }

                    AssertClose(LogitData.Row(output, vocab, r), expected, $"row {r}, T0 {pick[r].T0}, Δ {pick[r].Delta}, exponent {exponent}, T {t:R}");
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new DynamicTemperatureProcessor(1f, 0.5f));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(bad, 0.5f), "temperature");
            ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(1f, bad), "delta");
            ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(1f, 0.5f, bad), "exponent");
        }

        ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(1f, -0.1f), "delta");
        ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(1f, 0.5f, 0f), "exponent");
        ShouldThrowOutOfRange(() => _ = new DynamicTemperatureProcessor(1f, 0.5f, -1f), "exponent");
    }
}

public sealed class CpuDynamicTemperatureProcessorTests : DynamicTemperatureProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

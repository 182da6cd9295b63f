using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Warping;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Warping;

public abstract class TemperatureTests : ProcessorTestBase
{
    [Fact]
    public void Spec_7_2_vectors()
    {
        Run(new TemperatureProcessor(0.5f), BaseRow).Should().Equal(6f, 4f, 2f, 1f, 0f, -2f, NegInf);
        Run(new TemperatureProcessor(2f), BaseRow).Should().Equal(1.5f, 1f, 0.5f, 0.25f, 0f, -0.5f, NegInf);
        foreach (float greedy in new[] { 0f, -1f, 1e-6f })
        {
            Run(new TemperatureProcessor(greedy), BaseRow).Should().Equal(3f, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf);
        }

        Run(new TemperatureProcessor(0f), new[] { 2f, 5f, 5f }).Should().Equal(NegInf, 5f, NegInf);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Non_finite_temperature_is_rejected(float t) =>
        FluentActions.Invoking(() => new TemperatureProcessor(t)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("temperature");

    [Fact]
    public void Per_row_temperatures_including_greedy_rows_match_the_reference()
    {
        foreach (int vocab in ReferenceVocabs())
        {
            int rows = 4;
            var data = LogitData.Random(rows, vocab, vocab);
            var temperatures = new[] { 0.7f, 0f, 1.3f, 1e-6f };
            var actual = RunRows(new TemperatureProcessor(temperatures.Select(t => (double)t).ToArray()), data, rows, vocab);
            for (int r = 0; r < rows; r++)
            {
                AssertRowEqual(actual[r], ReferenceProcessors.Temperature(LogitData.Row(data, vocab, r), temperatures[r]), $"row {r}, T {temperatures[r]}");
            }
        }
    }

    [Fact]
    public void An_all_negative_infinity_row_passes_through_and_per_row_counts_are_checked()
    {
        var data = new[] { NegInf, NegInf, NegInf, 1f, 2f, 3f };
        var rows = RunRows(new TemperatureProcessor(new[] { 0.0, 0.5 }), data, 2, 3);
        rows[0].Should().Equal(NegInf, NegInf, NegInf);
        rows[1].Should().Equal(2f, 4f, 6f);
        FluentActions.Invoking(() => RunRows(new TemperatureProcessor(new[] { 1.0, 1.0, 1.0 }), data, 2, 3)).Should().Throw<ArgumentException>();
    }
}

public sealed class CpuTemperatureTests : TemperatureTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

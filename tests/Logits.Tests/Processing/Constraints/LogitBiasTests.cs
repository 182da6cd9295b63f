using System;
using System.Collections.Generic;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Logit bias (docs/algorithms/constraints.md#logit-bias) on every backend.</summary>
public abstract class LogitBiasTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new LogitBiasProcessor(new Dictionary<int, double> { [0] = -1.5f, [4] = 2f, [6] = 5f });
        AssertClose(RunRow(processor, B), new double[] { 1.5, 2, 1, 0.5, 2, -1, double.NegativeInfinity }, "logit bias");
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 1));
            var bias = new Dictionary<int, double>();
            for (int j = 0; j < Math.Min(vocab, 8); j++)
            {
                bias[rng.Next(vocab)] = rng.NextDouble() < 0.2 ? NegInf : (float)((rng.NextDouble() * 20) - 10);
            }

            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 2));
            var actual = Run(new LogitBiasProcessor(bias), data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertRow(actual, vocab, r, ReferenceConstraints.LogitBias(row, bias), "logit bias", LogScale(row));
            }
        }
    }

    [Fact]
    public void Empty_map_is_a_no_op()
    {
        RunRow(new LogitBiasProcessor(new Dictionary<int, double>()), B).Should().Equal(B);
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new LogitBiasProcessor(new Dictionary<int, double> { [0] = 5f, [1] = NegInf }), 4, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new LogitBiasProcessor(new Dictionary<int, double> { [0] = float.NaN }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new LogitBiasProcessor(new Dictionary<int, double> { [0] = float.PositiveInfinity }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new LogitBiasProcessor(new Dictionary<int, double> { [0] = 1e300 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new SequenceBias(new[] { 1 }, -1e39))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new LogitBiasProcessor(new Dictionary<int, double> { [-1] = 1f }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new LogitBiasProcessor(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => RunRow(new LogitBiasProcessor(new Dictionary<int, double> { [7] = 1f }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
    }

    [Fact]
    public void Negative_infinity_bias_bans_and_is_sticky()
    {
        var result = RunRow(new LogitBiasProcessor(new Dictionary<int, double> { [1] = NegInf, [6] = 100f }), B);
        result[1].Should().Be(NegInf);
        result[6].Should().Be(NegInf);
    }
}

/// <summary>Logit bias on the CPU backend.</summary>
public sealed class CpuLogitBiasTests : LogitBiasTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

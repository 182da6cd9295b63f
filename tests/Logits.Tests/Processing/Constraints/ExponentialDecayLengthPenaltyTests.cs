using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Exponential-decay length penalty (docs/algorithms/constraints.md#exponential-decay-length-penalty and its example) on every backend.</summary>
public abstract class ExponentialDecayLengthPenaltyTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new ExponentialDecayLengthPenaltyProcessor(2, 1.5);
        var eos = new[] { 5, 6 };
        var result = RunRow(processor, B, new int[5], eos: eos);
        AssertClose(result, new[] { 3, 2, 1, 0.5, 0, 1.375, double.NegativeInfinity }, "decay, 5-token history");
        RunRow(processor, B, new int[2], eos: eos).Should().Equal(B);
    }

    [Fact]
    public void Overflow_becomes_max_value_and_zero_gets_no_boost()
    {
        var row = new[] { 0f, 3e38f, -1e30f, 1f };
        var processor = new ExponentialDecayLengthPenaltyProcessor(0, 10);
        var eos = new[] { 0, 1, 2 };

        // 10^400 overflows float64: the finite logits saturate, the zero stays 0 (never 0·∞ = NaN).
        RunRow(processor, row, new int[400], eos: eos).Should().Equal(0f, float.MaxValue, float.MaxValue, 1f);

        // 10^3: 3e38·1000 overflows only the float32 rounding.
        AssertClose(RunRow(processor, row, new int[3], eos: eos), new[] { 0, float.MaxValue, (double)1e30f * 998, 1 }, "decay, k = 3");
    }

    [Fact]
    public void Duplicate_eos_ids_are_applied_once()
    {
        var processor = new ExponentialDecayLengthPenaltyProcessor(0, 2);
        new SamplingContext(0, new[] { 1, 1, 1 }).EosTokenIds.Should().Equal(1);
        AssertClose(RunRow(processor, new[] { 0f, -2f }, new int[1], eos: new[] { 1, 1, 1 }), new[] { 0, 0.0 }, "duplicates");
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 21));
            int start = rng.Next(3);
            double factor = 1.01 + (rng.NextDouble() * 2);
            var eos = Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => rng.Next(vocab)).ToArray();
            var histories = Enumerable.Range(0, rows).Select(_ => new int[rng.Next(2) == 0 ? rng.Next(6) : rng.Next(300)]).ToArray();
            var prompts = histories.Select(h => rng.Next(Math.Min(h.Length, 2) + 1)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 22));
            var actual = Run(new ExponentialDecayLengthPenaltyProcessor(start, factor), data, rows, vocab, Contexts(histories, prompts, eos));
            for (int r = 0; r < rows; r++)
            {
                int generated = histories[r].Length - prompts[r];
                var expected = ReferenceConstraints.ExponentialDecay(LogitData.Row(data, vocab, r), generated, start, factor, eos.Distinct().ToArray());
                AssertRow(actual, vocab, r, expected, "exponential decay");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new ExponentialDecayLengthPenaltyProcessor(0, 2), 3, Contexts(2, new int[4], eos: new[] { 1 }));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new ExponentialDecayLengthPenaltyProcessor(-1, 2))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("startIndex");
        foreach (double factor in new[] { 1, 0.5, double.NaN, double.PositiveInfinity, -2 })
        {
            FluentActions.Invoking(() => new ExponentialDecayLengthPenaltyProcessor(0, factor))
                .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("decayFactor");
        }

        FluentActions.Invoking(() => RunRow(new ExponentialDecayLengthPenaltyProcessor(0, 2), B))
            .Should().Throw<InvalidOperationException>().WithMessage("*exponential-decay-length-penalty*row 0*");
        FluentActions.Invoking(() => RunRow(new ExponentialDecayLengthPenaltyProcessor(0, 2), B, eos: new[] { 7 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
    }
}

/// <summary>Exponential-decay length penalty on the CPU backend.</summary>
public sealed class CpuExponentialDecayLengthPenaltyTests : ExponentialDecayLengthPenaltyTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Forced BOS (docs/algorithms/constraints.md#forced-bos) on every backend.</summary>
public abstract class ForcedBosTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new ForcedBosProcessor(0);
        RunRow(processor, B, new[] { 1, 2 }, promptLength: 2).Should().Equal(0f, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf);
        RunRow(processor, B, new[] { 1, 2 }, promptLength: 1).Should().Equal(B);
    }

    [Fact]
    public void Forced_token_is_set_to_zero_even_when_it_was_negative_infinity()
    {
        RunRow(new ForcedBosProcessor(6), B).Should().Equal(NegInf, NegInf, NegInf, NegInf, NegInf, NegInf, 0f);
    }

    [Fact]
    public void All_negative_infinity_row_stays_empty()
    {
        // Library decision: the base class passes empty rows through, even when a token would be forced.
        AssertEmptyRowPassesThrough(new ForcedBosProcessor(1), 3, Contexts(2, Array.Empty<int>()));
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 13));
            int bos = rng.Next(vocab);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(4), vocab)).ToArray();
            var prompts = histories.Select(h => rng.Next(2) == 0 ? h.Length : rng.Next(h.Length + 1)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 14));
            var actual = Run(new ForcedBosProcessor(bos), data, rows, vocab, Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                bool active = histories[r].Length == prompts[r];
                AssertRow(actual, vocab, r, ReferenceConstraints.Force(LogitData.Row(data, vocab, r), active, new[] { bos }), "forced BOS");
            }
        }
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new ForcedBosProcessor(-1))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("bosTokenId");
        FluentActions.Invoking(() => RunRow(new ForcedBosProcessor(7), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bosTokenId");
    }
}

/// <summary>Forced BOS on the CPU backend.</summary>
public sealed class CpuForcedBosTests : ForcedBosTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

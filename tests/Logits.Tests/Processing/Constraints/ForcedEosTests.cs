using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Forced EOS (spec/sampling.md §3c, §7.6) on every backend.</summary>
public abstract class ForcedEosTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new ForcedEosProcessor(8, new[] { 5 });
        RunRow(processor, B, new int[7], promptLength: 3).Should().Equal(NegInf, NegInf, NegInf, NegInf, NegInf, 0f, NegInf);
        RunRow(processor, B, new int[6], promptLength: 3).Should().Equal(B);
        RunRow(processor, B, new int[8], promptLength: 3).Should().Equal(B);
    }

    [Fact]
    public void Several_eos_ids_are_all_set_to_zero()
    {
        RunRow(new ForcedEosProcessor(1, new[] { 6, 1, 6 }), B).Should().Equal(NegInf, 0f, NegInf, NegInf, NegInf, NegInf, 0f);
    }

    [Fact]
    public void All_negative_infinity_row_stays_empty()
    {
        // Library decision: the base class passes empty rows through, even when EOS would be forced.
        AssertEmptyRowPassesThrough(new ForcedEosProcessor(1, new[] { 2 }), 3, Contexts(2, Array.Empty<int>()));
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 15));
            int maxLength = 1 + rng.Next(4);
            var eos = new[] { rng.Next(vocab), rng.Next(vocab) };
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(5), vocab)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 16));
            var actual = Run(new ForcedEosProcessor(maxLength, eos), data, rows, vocab, Contexts(histories, new int[rows]));
            for (int r = 0; r < rows; r++)
            {
                bool active = histories[r].Length == maxLength - 1;
                AssertRow(actual, vocab, r, ReferenceConstraints.Force(LogitData.Row(data, vocab, r), active, eos), "forced EOS");
            }
        }
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new ForcedEosProcessor(0, new[] { 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxLength");
        FluentActions.Invoking(() => new ForcedEosProcessor(2, Array.Empty<int>()))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => new ForcedEosProcessor(2, new[] { -5 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => RunRow(new ForcedEosProcessor(2, new[] { 7 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
    }
}

/// <summary>Forced EOS on the CPU backend.</summary>
public sealed class CpuForcedEosTests : ForcedEosTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Forced EOS (docs/algorithms/constraints.md#forced-eos) on every backend.</summary>
public abstract class ForcedEosTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new ForcedEosProcessor(8);
        var eos = new[] { 5 };
        RunRow(processor, B, new int[7], promptLength: 3, eos: eos).Should().Equal(NegInf, NegInf, NegInf, NegInf, NegInf, 0f, NegInf);
        RunRow(processor, B, new int[6], promptLength: 3, eos: eos).Should().Equal(B);
        RunRow(processor, B, new int[8], promptLength: 3, eos: eos).Should().Equal(B);
    }

    [Fact]
    public void Several_eos_ids_are_all_set_to_zero()
    {
        RunRow(new ForcedEosProcessor(1), B, eos: new[] { 6, 1, 6 }).Should().Equal(NegInf, 0f, NegInf, NegInf, NegInf, NegInf, 0f);
    }

    [Fact]
    public void All_negative_infinity_row_stays_empty()
    {
        // Library decision: the base class passes empty rows through, even when EOS would be forced.
        AssertEmptyRowPassesThrough(new ForcedEosProcessor(1), 3, Contexts(2, Array.Empty<int>(), eos: new[] { 2 }));
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
            var actual = Run(new ForcedEosProcessor(maxLength), data, rows, vocab, Contexts(histories, new int[rows], eos));
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
        FluentActions.Invoking(() => new ForcedEosProcessor(0))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("maxLength");
        FluentActions.Invoking(() => RunRow(new ForcedEosProcessor(2), B))
            .Should().Throw<InvalidOperationException>().WithMessage("*forced-eos*row 0*");
        FluentActions.Invoking(() => RunRow(new ForcedEosProcessor(2), B, eos: new[] { 7 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
    }

    [Fact]
    public void Each_row_is_forced_to_its_own_end_of_sequence_ids()
    {
        var contexts = new[] { new SamplingContext(0, new[] { 1 }), new SamplingContext(1, new[] { 4, 5 }) };
        var result = Run(new ForcedEosProcessor(1), B.Concat(B).ToArray(), 2, B.Length, contexts);
        result.Should().Equal(NegInf, 0f, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf, NegInf, 0f, 0f, NegInf);
    }
}

/// <summary>Forced EOS on the CPU backend.</summary>
public sealed class CpuForcedEosTests : ForcedEosTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Bad words (docs/algorithms/constraints.md#bad-words) on every backend.</summary>
public abstract class BadWordsTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new BadWordsProcessor(new[] { new[] { 4 }, new[] { 1, 2 } });
        var result = RunRow(processor, B, new[] { 0, 3, 1 }, eos: new[] { 5 });
        AssertClose(result, new double[] { 3, 2, double.NegativeInfinity, 0.5, double.NegativeInfinity, -1, double.NegativeInfinity }, "bad words");
    }

    [Fact]
    public void Single_eos_sequence_is_dropped_and_an_empty_list_is_a_no_op()
    {
        var processor = new BadWordsProcessor(new[] { new[] { 5 }, new[] { 2, 5 } });
        processor.Sequences.Should().HaveCount(2);
        RunRow(processor, B, new[] { 1 }, eos: new[] { 5 }).Should().Equal(B);
        RunRow(processor, B, new[] { 2 }, eos: new[] { 5 })[5].Should().Be(NegInf);

        // A row whose context names no EOS id bans the single token like any other.
        RunRow(processor, B, new[] { 1 })[5].Should().Be(NegInf);

        var onlyEos = new BadWordsProcessor(new[] { new[] { 5 } });
        RunRow(onlyEos, B, eos: new[] { 5, 6 }).Should().Equal(B);
        RunRow(new BadWordsProcessor(Array.Empty<int[]>()), B).Should().Equal(B);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 5));
            int alphabet = Math.Min(vocab, 4);
            var sequences = Enumerable.Range(0, 8).Select(_ => RandomHistory(rng, 1 + rng.Next(3), alphabet)).ToList();
            var eos = new[] { rng.Next(alphabet) };
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(5), alphabet)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 6));
            var actual = Run(new BadWordsProcessor(sequences), data, rows, vocab, Contexts(histories, new int[rows], eos));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertRow(actual, vocab, r, ReferenceConstraints.BadWords(row, histories[r], sequences, eos), "bad words");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new BadWordsProcessor(new[] { new[] { 1 } }), 3, Contexts(2, Array.Empty<int>(), eos: new[] { 0 }));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new BadWordsProcessor(new[] { Array.Empty<int>() }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("sequences");
        FluentActions.Invoking(() => new BadWordsProcessor(new[] { new[] { -3 } }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("sequences");
        FluentActions.Invoking(() => new BadWordsProcessor(null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => RunRow(new BadWordsProcessor(new[] { new[] { 1 } }), B, eos: new[] { 9 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => RunRow(new BadWordsProcessor(new[] { new[] { 7 } }), B, eos: new[] { 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sequences");
    }
}

/// <summary>Bad words on the CPU backend.</summary>
public sealed class CpuBadWordsTests : BadWordsTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

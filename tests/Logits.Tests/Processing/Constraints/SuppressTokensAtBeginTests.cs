using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Suppress tokens at begin (docs/algorithms/constraints.md#suppress-tokens) on every backend.</summary>
public abstract class SuppressTokensAtBeginTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new SuppressTokensAtBeginProcessor(new[] { 1 });
        RunRow(processor, B, new int[3], promptLength: 3).Should().Equal(3f, NegInf, 1f, 0.5f, 0f, -1f, NegInf);
        RunRow(processor, B, new int[3], promptLength: 2).Should().Equal(B);
    }

    [Fact]
    public void Begin_index_selects_the_step()
    {
        var processor = new SuppressTokensAtBeginProcessor(new[] { 0, 2 }, beginIndex: 2);
        RunRow(processor, B, new int[3], promptLength: 1).Should().Equal(NegInf, 2f, NegInf, 0.5f, 0f, -1f, NegInf);
        RunRow(processor, B, new int[3], promptLength: 0).Should().Equal(B);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 19));
            int begin = rng.Next(3);
            var ids = Enumerable.Range(0, 1 + rng.Next(Math.Min(vocab, 6))).Select(_ => rng.Next(vocab)).ToArray();
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(4), vocab)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 20));
            var actual = Run(new SuppressTokensAtBeginProcessor(ids, begin), data, rows, vocab, Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                bool active = histories[r].Length - prompts[r] == begin;
                AssertRow(actual, vocab, r, ReferenceConstraints.Ban(LogitData.Row(data, vocab, r), active, ids), "suppress at begin");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new SuppressTokensAtBeginProcessor(new[] { 1 }), 3, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new SuppressTokensAtBeginProcessor(Array.Empty<int>()))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("tokenIds");
        FluentActions.Invoking(() => new SuppressTokensAtBeginProcessor(new[] { 1 }, -1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("beginIndex");
        FluentActions.Invoking(() => RunRow(new SuppressTokensAtBeginProcessor(new[] { 7 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("tokenIds");
    }
}

/// <summary>Suppress tokens at begin on the CPU backend.</summary>
public sealed class CpuSuppressTokensAtBeginTests : SuppressTokensAtBeginTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

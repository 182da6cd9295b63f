using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Min new tokens (spec/sampling.md §3c, §7.6) on every backend.</summary>
public abstract class MinNewTokensTests : ConstraintTestBase
{
    [Theory]
    [InlineData(4, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public void Spec_vector(int historyLength, bool banned)
    {
        var processor = new MinNewTokensProcessor(2, new[] { 5 });
        var result = RunRow(processor, B, new int[historyLength], promptLength: 4);
        if (banned)
        {
            result[5].Should().Be(NegInf);
            result.Where((_, i) => i != 5).Should().Equal(B.Where((_, i) => i != 5));
        }
        else
        {
            result.Should().Equal(B);
        }
    }

    [Fact]
    public void Stop_ids_are_banned_too_and_zero_is_a_no_op()
    {
        var result = RunRow(new MinNewTokensProcessor(1, new[] { 5 }, new[] { 2 }), B, new int[3], promptLength: 3);
        result[2].Should().Be(NegInf);
        result[5].Should().Be(NegInf);
        RunRow(new MinNewTokensProcessor(0, new[] { 5 }), B).Should().Equal(B);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 11));
            int minNew = rng.Next(4);
            var eos = new[] { rng.Next(vocab) };
            var stop = new[] { rng.Next(vocab), rng.Next(vocab) };
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(8), vocab)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 12));
            var actual = Run(new MinNewTokensProcessor(minNew, eos, stop), data, rows, vocab, Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                int generated = histories[r].Length - prompts[r];
                var expected = ReferenceConstraints.MinNewTokens(LogitData.Row(data, vocab, r), generated, minNew, eos.Concat(stop));
                AssertRow(actual, vocab, r, expected, "min new tokens");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new MinNewTokensProcessor(5, new[] { 1 }), 3, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new MinNewTokensProcessor(-1, new[] { 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minNewTokens");
        FluentActions.Invoking(() => new MinNewTokensProcessor(1, Array.Empty<int>()))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => new MinNewTokensProcessor(1, null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => RunRow(new MinNewTokensProcessor(1, new[] { 1 }, new[] { 9 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("stopTokenIds");
        FluentActions.Invoking(() => RunRow(new MinNewTokensProcessor(1, new[] { 8 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
    }
}

/// <summary>Min new tokens on the CPU backend.</summary>
public sealed class CpuMinNewTokensTests : MinNewTokensTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

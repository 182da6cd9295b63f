using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Min new tokens (docs/algorithms/constraints.md#min-length-and-min-new-tokens) on every backend.</summary>
public abstract class MinNewTokensTests : ConstraintTestBase
{
    [Theory]
    [InlineData(4, true)]
    [InlineData(5, true)]
    [InlineData(6, false)]
    public void Spec_vector(int historyLength, bool banned)
    {
        var processor = new MinNewTokensProcessor(2);
        var result = RunRow(processor, B, new int[historyLength], promptLength: 4, eos: new[] { 5 });
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
        var result = RunRow(new MinNewTokensProcessor(1, new[] { 2 }), B, new int[3], promptLength: 3, eos: new[] { 5 });
        result[2].Should().Be(NegInf);
        result[5].Should().Be(NegInf);
        RunRow(new MinNewTokensProcessor(0), B, eos: new[] { 5 }).Should().Equal(B);
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
            var actual = Run(new MinNewTokensProcessor(minNew, stop), data, rows, vocab, Contexts(histories, prompts, eos));
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
        AssertEmptyRowPassesThrough(new MinNewTokensProcessor(5), 3, Contexts(2, Array.Empty<int>(), eos: new[] { 1 }));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new MinNewTokensProcessor(-1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minNewTokens");
        FluentActions.Invoking(() => new MinNewTokensProcessor(1, new[] { -3 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("stopTokenIds");
        FluentActions.Invoking(() => RunRow(new MinNewTokensProcessor(1, new[] { 9 }), B, eos: new[] { 1 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("stopTokenIds");
        FluentActions.Invoking(() => RunRow(new MinNewTokensProcessor(1), B, eos: new[] { 8 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
    }

    [Fact]
    public void A_context_without_end_of_sequence_ids_is_an_error_naming_the_processor_and_row()
    {
        // The EOS ids have one source, the SamplingContext: a row without them cannot be constrained.
        var contexts = new[] { new SamplingContext(0, new[] { 1 }), new SamplingContext(1) };
        FluentActions.Invoking(() => Run(new MinNewTokensProcessor(1), B.Concat(B).ToArray(), 2, B.Length, contexts))
            .Should().Throw<InvalidOperationException>().WithMessage("*min-new-tokens*row 1*");
    }

    [Fact]
    public void Each_row_bans_its_own_end_of_sequence_ids()
    {
        var contexts = new[] { new SamplingContext(0, new[] { 1 }), new SamplingContext(1, new[] { 3, 4 }) };
        var result = Run(new MinNewTokensProcessor(1), B.Concat(B).ToArray(), 2, B.Length, contexts);
        result.Take(B.Length).Should().Equal(3.0f, NegInf, 1.0f, 0.5f, 0.0f, -1.0f, NegInf);
        result.Skip(B.Length).Should().Equal(3.0f, 2.0f, 1.0f, NegInf, NegInf, -1.0f, NegInf);
    }
}

/// <summary>Min new tokens on the CPU backend.</summary>
public sealed class CpuMinNewTokensTests : MinNewTokensTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

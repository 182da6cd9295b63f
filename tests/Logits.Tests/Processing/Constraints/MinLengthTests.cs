using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Min length (docs/algorithms/constraints.md#min-length-and-min-new-tokens) on every backend.</summary>
public abstract class MinLengthTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new MinLengthProcessor(6);
        var banned = RunRow(processor, B, new int[5], promptLength: 3, eos: new[] { 5 });
        banned[5].Should().Be(NegInf);
        banned.Where((_, i) => i != 5).Should().Equal(B.Where((_, i) => i != 5));
        RunRow(processor, B, new int[6], promptLength: 3, eos: new[] { 5 }).Should().Equal(B);
    }

    [Fact]
    public void Stop_ids_are_banned_too_and_zero_is_a_no_op()
    {
        var result = RunRow(new MinLengthProcessor(3, new[] { 0, 5 }), B, new int[1], eos: new[] { 5 });
        result[0].Should().Be(NegInf);
        result[5].Should().Be(NegInf);
        RunRow(new MinLengthProcessor(0), B, eos: new[] { 5 }).Should().Equal(B);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 9));
            int minLength = rng.Next(6);
            var eos = new[] { rng.Next(vocab), rng.Next(vocab) };
            var stop = new[] { rng.Next(vocab) };
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(8), vocab)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 10));
            var actual = Run(new MinLengthProcessor(minLength, stop), data, rows, vocab, Contexts(histories, prompts, eos));
            for (int r = 0; r < rows; r++)
            {
                var expected = ReferenceConstraints.MinLength(LogitData.Row(data, vocab, r), histories[r].Length, minLength, eos.Concat(stop));
                AssertRow(actual, vocab, r, expected, "min length");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new MinLengthProcessor(5), 3, Contexts(2, Array.Empty<int>(), eos: new[] { 1 }));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new MinLengthProcessor(-1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minLength");
        FluentActions.Invoking(() => new SamplingContext(0, new[] { -1 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => new MinLengthProcessor(1, new[] { -2 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("stopTokenIds");
        FluentActions.Invoking(() => RunRow(new MinLengthProcessor(1), B, eos: new[] { 7 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("eosTokenIds");
        FluentActions.Invoking(() => RunRow(new MinLengthProcessor(1), B))
            .Should().Throw<InvalidOperationException>().WithMessage("*min-length*row 0*");
    }
}

/// <summary>Min length on the CPU backend.</summary>
public sealed class CpuMinLengthTests : MinLengthTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Suppress tokens (docs/algorithms/constraints.md#suppress-tokens) on every backend.</summary>
public abstract class SuppressTokensTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new SuppressTokensProcessor(new[] { 0 });
        foreach (int generated in new[] { 0, 1, 5 })
        {
            RunRow(processor, B, new int[generated]).Should().Equal(NegInf, 2f, 1f, 0.5f, 0f, -1f, NegInf);
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 17));
            var ids = Enumerable.Range(0, 1 + rng.Next(Math.Min(vocab, 6))).Select(_ => rng.Next(vocab)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 18));
            var actual = Run(new SuppressTokensProcessor(ids), data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                AssertRow(actual, vocab, r, ReferenceConstraints.Ban(LogitData.Row(data, vocab, r), true, ids), "suppress");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new SuppressTokensProcessor(new[] { 1 }), 3, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new SuppressTokensProcessor(Array.Empty<int>()))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("tokenIds");
        FluentActions.Invoking(() => new SuppressTokensProcessor(new[] { -1 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("tokenIds");
        FluentActions.Invoking(() => RunRow(new SuppressTokensProcessor(new[] { 7 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("tokenIds");
    }
}

/// <summary>Suppress tokens on the CPU backend.</summary>
public sealed class CpuSuppressTokensTests : SuppressTokensTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

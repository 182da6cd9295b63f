using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Allowed tokens (docs/algorithms/constraints.md#allowed-tokens) on every backend.</summary>
public abstract class AllowedTokensTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        AssertClose(
            RunRow(new AllowedTokensProcessor(new[] { 1, 3 }), B),
            new[] { double.NegativeInfinity, 2, double.NegativeInfinity, 0.5, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity },
            "allowed");
    }

    [Fact]
    public void Empty_set_throws()
    {
        FluentActions.Invoking(() => new AllowedTokensProcessor(Array.Empty<int>()))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("allowedTokenIds");
    }

    [Fact]
    public void Allowed_negative_infinity_stays_and_may_empty_the_row()
    {
        var result = RunRow(new AllowedTokensProcessor(new[] { 6 }), B);
        result.Should().OnlyContain(v => float.IsNegativeInfinity(v));
    }

    [Fact]
    public void Callback_gets_row_and_history_and_is_applied_per_row()
    {
        var seen = new List<(int Row, int[] History)>();
        var processor = new AllowedTokensProcessor((row, history) =>
        {
            seen.Add((row, history.ToArray()));
            return row == 0 ? new[] { 0 } : new[] { 4, 5, 4 };
        });
        var data = B.Concat(B).ToArray();
        var result = Run(processor, data, 2, 7, Contexts(new[] { new[] { 1 }, new[] { 2, 3 } }, new[] { 0, 1 }));
        seen.Should().HaveCount(2);
        seen[1].History.Should().Equal(2, 3);
        AssertRow(result, 7, 0, new[] { 3, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity }, "row 0");
        AssertRow(result, 7, 1, new[] { double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, 0, -1, double.NegativeInfinity }, "row 1");
    }

    [Fact]
    public void Empty_callback_result_throws_naming_the_row()
    {
        var processor = new AllowedTokensProcessor((row, _) => row == 1 ? Array.Empty<int>() : new[] { 0 });
        FluentActions.Invoking(() => Run(processor, B.Concat(B).ToArray(), 2, 7, Contexts(2, Array.Empty<int>())))
            .Should().Throw<InvalidOperationException>().WithMessage("*row 1*");
        var negative = new AllowedTokensProcessor((_, _) => new[] { -1 });
        FluentActions.Invoking(() => RunRow(negative, B)).Should().Throw<InvalidOperationException>().WithMessage("*row 0*");
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 7));
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 8));

            var fixedSet = Enumerable.Range(0, 1 + rng.Next(Math.Min(vocab, 10))).Select(_ => rng.Next(vocab)).ToArray();
            var actual = Run(new AllowedTokensProcessor(fixedSet), data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                AssertRow(actual, vocab, r, ReferenceConstraints.Allowed(LogitData.Row(data, vocab, r), fixedSet), "allowed (fixed)");
            }

            // Different set sizes per row, with duplicates.
            var perRow = Enumerable.Range(0, rows)
                .Select(_ => Enumerable.Range(0, 1 + rng.Next(Math.Min(vocab, 12))).Select(_ => rng.Next(vocab)).ToArray())
                .ToArray();
            actual = Run(new AllowedTokensProcessor((row, _) => perRow[row]), data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                AssertRow(actual, vocab, r, ReferenceConstraints.Allowed(LogitData.Row(data, vocab, r), perRow[r]), "allowed (callback)");
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(new AllowedTokensProcessor(new[] { 1, 2 }), 4, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new AllowedTokensProcessor(new[] { 1, -1 }))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("allowedTokenIds");
        FluentActions.Invoking(() => new AllowedTokensProcessor((IEnumerable<int>)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => new AllowedTokensProcessor((AllowedTokensCallback)null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => RunRow(new AllowedTokensProcessor(new[] { 7 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("allowedTokenIds");
        FluentActions.Invoking(() => RunRow(new AllowedTokensProcessor((_, _) => new[] { 7 }), B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("callback");
    }
}

/// <summary>Allowed tokens on the CPU backend.</summary>
public sealed class CpuAllowedTokensTests : AllowedTokensTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

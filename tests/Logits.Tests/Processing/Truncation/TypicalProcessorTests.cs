using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>Typical sampling (docs/algorithms/truncation.md#typical) on every backend.</summary>
public abstract class TypicalProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Theory]
    [InlineData(0.2, new[] { 1 })]
    [InlineData(0.5, new[] { 0, 1 })]
    [InlineData(0.9, new[] { 0, 1, 2 })]
    public void Spec_vectors(double mass, int[] kept)
    {
        foreach (var boundary in new[] { TypicalBoundary.Inclusive, TypicalBoundary.Strict })
        {
            var output = Run(Create, new TypicalProcessor(mass, boundary: boundary), B);
            AssertKeptSet(B, output, kept, $"mass {mass}, {boundary}");
        }
    }

    [Fact]
    public void Argmax_can_be_dropped_so_it_is_not_argmax_invariant()
    {
        var processor = new TypicalProcessor(0.2);
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Name.Should().Be("typical");
        Run(Create, processor, B)[0].Should().Be(float.NegativeInfinity);
    }

    [Theory]
    [InlineData(2, new[] { 0, 1 })]
    [InlineData(3, new[] { 0, 1, 2 })]
    [InlineData(10, new[] { 0, 1, 2, 3, 4, 5 })]
    public void MinTokensToKeep_counts_in_typicality_order(int minTokensToKeep, int[] kept)
    {
        // Typicality order of B is 1, 0, 2, 3, 4, 5.
        var output = Run(Create, new TypicalProcessor(0.2, minTokensToKeep: minTokensToKeep), B);
        AssertKeptSet(B, output, kept, $"m_keep {minTokensToKeep}");
    }

    [Fact]
    public void Mass_one_is_a_no_op()
    {
        Run(Create, new TypicalProcessor(1.0), B).Should().Equal(B);
    }

    [Fact]
    public void Score_ties_are_kept_together()
    {
        // Two tokens of equal value have equal scores: both stay or both go.
        var row = new[] { 2f, 1f, 1f, 0f, -3f };
        for (double mass = 0.05; mass < 1; mass += 0.05)
        {
            var output = Run(Create, new TypicalProcessor(mass), row);
            float.IsNegativeInfinity(output[1]).Should().Be(float.IsNegativeInfinity(output[2]), $"mass {mass}");
        }
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        double[] masses = { 0.2, 0.5, 0.9, 0.95, 1.0, 0.05 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 1));
            foreach (var boundary in new[] { TypicalBoundary.Inclusive, TypicalBoundary.Strict })
            {
                foreach (int minKeep in new[] { 1, 3 })
                {
                    var mass = Enumerable.Range(0, rows).Select(r => masses[(r + minKeep) % masses.Length]).ToArray();
                    var output = Run(Create, new TypicalProcessor(mass, minKeep, boundary), data, rows, vocab);
                    for (int r = 0; r < rows; r++)
                    {
                        var input = LogitData.Row(data, vocab, r);
                        var kept = ReferenceTruncation.Typical(input, mass[r], boundary == TypicalBoundary.Strict, minKeep, out double margin);
                        if (margin > 1e-9)
                        {
                            AssertKeptSet(input, LogitData.Row(output, vocab, r), Enumerable.Range(0, vocab).Where(i => kept[i]), $"row {r}, mass {mass[r]}, {boundary}, m_keep {minKeep}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new TypicalProcessor(0.5));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double mass in new[] { 0.0, -0.1, 1.0000001, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new TypicalProcessor(mass), "mass");
        }

        ShouldThrowOutOfRange(() => _ = new TypicalProcessor(new[] { 0.5, 0.0 }), "mass");
        ShouldThrowOutOfRange(() => _ = new TypicalProcessor(0.5, boundary: (TypicalBoundary)7), "boundary");
        ShouldThrowOutOfRange(() => _ = new TypicalProcessor(0.5, minTokensToKeep: 0), "minTokensToKeep");
    }

    [Fact]
    public void Per_row_count_must_match_the_batch()
    {
        using var batch = Create(B.Concat(B).ToArray(), 2, 7);
        var act = () => new TypicalProcessor(new[] { 0.5, 0.5, 0.5 }).Process(batch, SamplingContext.ForRows(2));
        act.Should().Throw<ArgumentException>();
    }
}

public sealed class CpuTypicalProcessorTests : TypicalProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Sequence bias (docs/algorithms/constraints.md#sequence-bias) on every backend.</summary>
public abstract class SequenceBiasTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        var processor = new SequenceBiasProcessor(new[]
        {
            new SequenceBias(new[] { 5 }, 1f),
            new SequenceBias(new[] { 1, 2 }, -2f),
            new SequenceBias(new[] { 3, 1, 2 }, -0.5f),
            new SequenceBias(new[] { 4, 2 }, 3f),
        });
        AssertClose(RunRow(processor, new float[6], new[] { 3, 1 }), new double[] { 0, 0, -2.5, 0, 0, 1 }, "sequence bias");
    }

    [Fact]
    public void Padding_in_the_history_is_skipped()
    {
        var processor = new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 3, 1, 2 }, -1f) });
        RunRow(processor, new float[6], new[] { 3, -1, 1, -1 })[2].Should().Be(-1f);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 3));
            int alphabet = Math.Min(vocab, 4);
            var entries = new List<(int[] Sequence, float Bias)>();
            for (int j = 0; j < 12; j++)
            {
                var sequence = RandomHistory(rng, 1 + rng.Next(3), alphabet);
                entries.Add((sequence, rng.NextDouble() < 0.15 ? NegInf : (float)((rng.NextDouble() * 6) - 3)));
            }

            // Duplicate an entry so accumulation of equal entries is covered.
            entries.Add(entries[0]);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, rng.Next(6), alphabet)).ToArray();
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 4));
            var processor = new SequenceBiasProcessor(entries.Select(e => new SequenceBias(e.Sequence, e.Bias)));
            var actual = Run(processor, data, rows, vocab, Contexts(histories, new int[rows]));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertRow(actual, vocab, r, ReferenceConstraints.SequenceBias(row, histories[r], entries), "sequence bias", LogScale(row));
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        var processor = new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 1 }, 4f) });
        AssertEmptyRowPassesThrough(processor, 3, Contexts(2, new[] { 1 }));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        FluentActions.Invoking(() => new SequenceBias(Array.Empty<int>(), 1f))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("tokens");
        FluentActions.Invoking(() => new SequenceBias(new[] { 1, -2 }, 1f))
            .Should().ThrowExactly<ArgumentException>().Which.ParamName.Should().Be("tokens");
        FluentActions.Invoking(() => new SequenceBias(new[] { 1 }, float.NaN))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new SequenceBias(new[] { 1 }, float.PositiveInfinity))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("bias");
        FluentActions.Invoking(() => new SequenceBiasProcessor(new SequenceBias[] { null! }))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("entries");

        // An id beyond the vocabulary throws on first use, even in a prefix that does not match.
        var processor = new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 9, 1 }, 1f) });
        FluentActions.Invoking(() => RunRow(processor, B))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("entries");
    }
}

/// <summary>Sequence bias on the CPU backend.</summary>
public sealed class CpuSequenceBiasTests : SequenceBiasTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

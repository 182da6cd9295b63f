using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>XTC (docs/algorithms/truncation.md#xtc) on every backend, including its RNG state.</summary>
public abstract class XtcProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Theory]
    [InlineData(0.05, new[] { 2, 3, 4, 5 })]
    [InlineData(0.2, new[] { 1, 2, 3, 4, 5 })]
    [InlineData(0.3, new[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData(0.6, new[] { 0, 1, 2, 3, 4, 5 })]
    public void Spec_vectors(double threshold, int[] kept) =>
        AssertKeptSet(B, Run(Create, new XtcProcessor(1.0, threshold, seed: 1), B), kept, $"threshold {threshold}");

    [Fact]
    public void Protected_token_blocks_the_removal()
    {
        Run(Create, new XtcProcessor(1.0, 0.05, seed: 1, protectedTokens: new[] { 1 }), B).Should().Equal(B);
        AssertKeptSet(B, Run(Create, new XtcProcessor(1.0, 0.05, seed: 1, protectedTokens: new[] { 2, 6 }), B), new[] { 2, 3, 4, 5 }, "protected survivor");
    }

    [Fact]
    public void Min_tokens_to_keep_blocks_the_removal()
    {
        // Threshold 0.05 would leave 4 tokens.
        AssertKeptSet(B, Run(Create, new XtcProcessor(1.0, 0.05, 1, minTokensToKeep: 4), B), new[] { 2, 3, 4, 5 }, "m_keep 4");
        Run(Create, new XtcProcessor(1.0, 0.05, 1, minTokensToKeep: 5), B).Should().Equal(B);
    }

    [Fact]
    public void Probability_zero_is_a_no_op_and_draws_nothing()
    {
        var xtc = new XtcProcessor(0.0, 0.05, seed: 9);
        Run(Create, xtc, B).Should().Equal(B);
        Run(Create, xtc, B).Should().Equal(B);
        xtc.StreamOf(0).NextUInt64().Should().Be(Xoshiro256StarStar.ForRow(9, 0).NextUInt64());
        xtc.IsArgmaxInvariant.Should().BeFalse();
        xtc.Name.Should().Be("xtc");
    }

    [Fact]
    public void Acts_exactly_when_the_row_stream_draw_is_below_probability()
    {
        const ulong Seed = 1234;
        const int Rows = 3;
        var probability = new[] { 0.5, 0.3, 0.8 };
        var values = Enumerable.Repeat(B, Rows).SelectMany(r => r).ToArray();
        var xtc = new XtcProcessor(probability, 0.05, Seed);
        var streams = Enumerable.Range(0, Rows).Select(r => Xoshiro256StarStar.ForRow(Seed, r)).ToArray();
        using var batch = Create(values, Rows, 7);
        var contexts = SamplingContext.ForRows(Rows);
        int acted = 0;
        for (int call = 0; call < 40; call++)
        {
            batch.CopyFrom(values);
            xtc.Process(batch, contexts);
            var output = batch.ToArray();
            for (int r = 0; r < Rows; r++)
            {
                // One draw per row and call, taken whether or not XTC acts.
                bool acts = streams[r].NextDouble() < probability[r];
                acted += acts ? 1 : 0;
                AssertKeptSet(B, LogitData.Row(output, 7, r), acts ? new[] { 2, 3, 4, 5 } : new[] { 0, 1, 2, 3, 4, 5 }, $"call {call}, row {r}");
            }
        }

        acted.Should().BeInRange(20, 100);
    }

    [Fact]
    public void Reset_reseeds_and_clone_copies_positions()
    {
        var xtc = new XtcProcessor(0.5, 0.05, seed: 77);
        var first = Enumerable.Range(0, 20).Select(_ => Run(Create, xtc, B)[0]).ToArray();
        xtc.Reset();
        Enumerable.Range(0, 20).Select(_ => Run(Create, xtc, B)[0]).Should().Equal(first);

        xtc.Reset();
        for (int i = 0; i < 7; i++)
        {
            Run(Create, xtc, B);
        }

        var clone = (XtcProcessor)xtc.Clone();
        var fromClone = Enumerable.Range(0, 13).Select(_ => Run(Create, clone, B)[0]).ToArray();
        fromClone.Should().Equal(first.Skip(7));

        // The clone's draws did not move the source.
        Enumerable.Range(0, 13).Select(_ => Run(Create, xtc, B)[0]).Should().Equal(first.Skip(7));
        clone.Seed.Should().Be(77);
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        double[] thresholds = { 0.05, 0.1, 0.2, 0.0, 0.5, 0.01 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 5));
            foreach (int minKeep in new[] { 1, 3 })
            {
                var threshold = Enumerable.Range(0, rows).Select(r => thresholds[(r + minKeep) % thresholds.Length]).ToArray();
                int[] protectedTokens = minKeep == 3 ? new[] { vocab / 2 } : Array.Empty<int>();
                var output = Run(Create, new XtcProcessor(1.0, threshold, 5, minKeep, protectedTokens), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var input = LogitData.Row(data, vocab, r);
                    var expected = ReferenceTruncation.Xtc(input, threshold[r], minKeep, protectedTokens, out double margin);
                    if (margin > 1e-12)
                    {
                        LogitData.Row(output, vocab, r).Should().Equal(expected, $"row {r}, threshold {threshold[r]}, m_keep {minKeep}");
                    }
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new XtcProcessor(1.0, 0.05, 3));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double bad in new[] { -0.1, 1.1, double.NaN })
        {
            ShouldThrowOutOfRange(() => _ = new XtcProcessor(bad, 0.1, 1), "probability");
            ShouldThrowOutOfRange(() => _ = new XtcProcessor(0.5, bad, 1), "threshold");
        }

        ShouldThrowOutOfRange(() => _ = new XtcProcessor(0.5, 0.1, 1, minTokensToKeep: 0), "minTokensToKeep");
        var negative = () => new XtcProcessor(0.5, 0.1, 1, protectedTokens: new[] { 2, -1 });
        negative.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("protectedTokens");

        // An id ≥ V is caught on first use, when V is known.
        var tooLarge = new XtcProcessor(1.0, 0.05, 1, protectedTokens: new[] { 7 });
        var act = () => Run(Create, tooLarge, B);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("protectedTokens");
    }
}

public sealed class CpuXtcProcessorTests : XtcProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

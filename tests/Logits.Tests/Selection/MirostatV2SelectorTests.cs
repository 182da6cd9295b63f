using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Randomness;
using Logits.Selection;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.Tests.Processing.Truncation;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Selection;

/// <summary>Mirostat v2 (docs/algorithms/selection.md#mirostat-v2) on every backend.</summary>
public abstract class MirostatV2SelectorTests
{
    /// <summary>ln[0.5, 0.25, 0.125, 0.0625, 0.0625]: surprises 1, 2, 3, 4, 4 bits.</summary>
    private static readonly float[] Row = { -0.693147f, -1.386294f, -2.079442f, -2.772589f, -2.772589f };

    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private int[] Select(MirostatV2Selector selector, float[] values, int rows, int vocab)
    {
        using var batch = Create(values, rows, vocab);
        var tokens = new int[rows];
        selector.SelectTokens(batch, SamplingContext.ForRows(rows), tokens);
        batch.ToArray().Should().Equal(values, "a selector does not modify the logits");
        return tokens;
    }

    [Fact]
    public void Spec_vector_mu_6_truncates_nothing_and_token_1_moves_mu_to_6_1()
    {
        double cutoff = MirostatV2Selector.Cutoff(Row, 6);
        Row.All(z => z >= cutoff).Should().BeTrue();
        double q = MirostatMath.RenormalisedProbability(Row, cutoff, 1);
        q.Should().BeApproximately(0.25, 1e-6);
        MirostatMath.NextMu(6, 3, 0.1, q).Should().BeApproximately(6.1, 1e-6);
    }

    [Fact]
    public void Spec_vector_mu_2_5_keeps_two_and_token_0_moves_mu_to_2_741504()
    {
        double cutoff = MirostatV2Selector.Cutoff(Row, 2.5);
        Enumerable.Range(0, 5).Where(i => Row[i] >= cutoff).Should().Equal(0, 1);
        MirostatMath.RenormalisedProbability(Row, cutoff, 0).Should().BeApproximately(0.666667, 1e-6);
        MirostatMath.RenormalisedProbability(Row, cutoff, 1).Should().BeApproximately(0.333333, 1e-6);
        MirostatMath.RenormalisedProbability(Row, cutoff, 2).Should().Be(0);
        double q = MirostatMath.RenormalisedProbability(Row, cutoff, 0);
        (-Math.Log2(q)).Should().BeApproximately(0.584963, 1e-6);
        MirostatMath.NextMu(2.5, 3, 0.1, q).Should().BeApproximately(2.741504, 1e-6);
    }

    [Fact]
    public void No_token_under_mu_keeps_the_top_tie_group()
    {
        var tied = new[] { 1f, 1f, 0f };
        double cutoff = MirostatV2Selector.Cutoff(tied, 0.1);
        Enumerable.Range(0, 3).Where(i => tied[i] >= cutoff).Should().Equal(0, 1);
    }

    [Fact]
    public void Selection_uses_mu_and_updates_it_with_the_renormalised_probability()
    {
        // Tau 1.25 gives mu0 = 2.5: only tokens 0 and 1 can be drawn.
        var selector = new MirostatV2Selector(seed: 42, tau: 1.25, eta: 0.1);
        selector.MuOf(0).Should().Be(2.5);
        int token = Select(selector, Row, 1, 5)[0];
        token.Should().BeOneOf(0, 1);
        double q = token == 0 ? 2.0 / 3 : 1.0 / 3;
        selector.MuOf(0).Should().BeApproximately(MirostatMath.NextMu(2.5, 1.25, 0.1, q), 1e-6);
        selector.Name.Should().Be("mirostat-v2");
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        const ulong Seed = 2024;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, TruncationTestKit.Seed(rows, vocab, 7));
            foreach (double tau in new[] { 1.0, 3.0, 5.0 })
            {
                var selector = new MirostatV2Selector(Seed, tau, 0.3);
                var streams = Enumerable.Range(0, rows).Select(r => Xoshiro256StarStar.ForRow(Seed, r)).ToArray();
                var mu = Enumerable.Repeat(2 * tau, rows).ToArray();
                var diverged = new bool[rows];
                for (int call = 0; call < 4; call++)
                {
                    var tokens = Select(selector, data, rows, vocab);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = LogitData.Row(data, vocab, r);
                        var keep = ReferenceTruncation.MirostatV2Keep(row, mu[r], out double keepMargin);
                        var (token, q, drawMargin) = ReferenceTruncation.Draw(row, keep, streams[r].NextDouble());
                        diverged[r] |= keepMargin < 1e-9 || drawMargin < 1e-9;
                        if (diverged[r])
                        {
                            continue;
                        }

                        tokens[r].Should().Be(token, $"row {r}, call {call}, tau {tau}");
                        mu[r] = ReferenceTruncation.NextMu(mu[r], tau, 0.3, q);
                        selector.MuOf(r).Should().BeApproximately(mu[r], 1e-9 * Math.Max(1, Math.Abs(mu[r])));
                    }
                }
            }
        }
    }

    [Fact]
    public void Reset_and_clone()
    {
        var values = Enumerable.Repeat(Row, 3).SelectMany(r => r).ToArray();
        var selector = new MirostatV2Selector(seed: 5, tau: 2, eta: 0.5);
        var first = Enumerable.Range(0, 12).Select(_ => Select(selector, values, 3, 5)).ToArray();
        double mu = selector.MuOf(1);

        selector.Reset();
        selector.MuOf(1).Should().Be(4);
        var again = Enumerable.Range(0, 12).Select(_ => Select(selector, values, 3, 5)).ToArray();
        again.Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        selector.MuOf(1).Should().Be(mu);

        selector.Reset();
        for (int i = 0; i < 5; i++)
        {
            Select(selector, values, 3, 5);
        }

        double muAtFive = selector.MuOf(2);
        var clone = (MirostatV2Selector)selector.Clone();
        clone.MuOf(2).Should().Be(muAtFive);
        var fromClone = Enumerable.Range(0, 7).Select(_ => Select(clone, values, 3, 5)).ToArray();
        fromClone.Should().BeEquivalentTo(first.Skip(5), o => o.WithStrictOrdering());
        selector.MuOf(2).Should().Be(muAtFive, "the clone does not disturb the source");
        Enumerable.Range(0, 7).Select(_ => Select(selector, values, 3, 5)).Should().BeEquivalentTo(first.Skip(5), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Empty_and_invalid_rows_throw()
    {
        var selector = new MirostatV2Selector(1);
        var empty = () => Select(selector, new[] { 1f, 2f, float.NegativeInfinity, float.NegativeInfinity }, 2, 2);
        empty.Should().Throw<NoViableTokenException>().Which.Row.Should().Be(1);
        var nan = () => Select(selector, new[] { 1f, float.NaN }, 1, 2);
        nan.Should().Throw<InvalidLogitsException>().Which.TokenIndex.Should().Be(1);
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double bad in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new MirostatV2Selector(1, tau: bad), "tau");
        }

        foreach (double bad in new[] { -0.1, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new MirostatV2Selector(1, eta: bad), "eta");
        }
    }
}

public sealed class CpuMirostatV2SelectorTests : MirostatV2SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

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

/// <summary>Mirostat v1 (docs/algorithms/selection.md#mirostat-v1) on every backend.</summary>
public abstract class MirostatV1SelectorTests
{
    /// <summary>Ten Zipf(1.2) candidates as logits ln p.</summary>
    private static readonly float[] Zipf = Enumerable.Range(1, 10).Select(i => (float)Math.Log(Math.Pow(i, -1.2) / Enumerable.Range(1, 10).Sum(j => Math.Pow(j, -1.2)))).ToArray();

    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private int[] Select(MirostatV1Selector selector, float[] values, int rows, int vocab)
    {
        using var batch = Create(values, rows, vocab);
        var tokens = new int[rows];
        selector.SelectTokens(batch, SamplingContext.ForRows(rows), tokens);
        batch.ToArray().Should().Equal(values, "a selector does not modify the logits");
        return tokens;
    }

    [Theory]
    [InlineData(10.0, 94.336730, 10)]
    [InlineData(6.0, 9.359389, 9)]
    [InlineData(4.0, 2.948023, 2)]
    public void Spec_vectors_k(double mu, double k, int kept)
    {
        Math.Exp(Zipf[0]).Should().BeApproximately(0.405233, 1e-6);
        ReferenceTruncation.MirostatV1K(Zipf, mu, 100, 32000).SHat.Should().BeApproximately(1.2, 1e-6);
        float cutoff = MirostatV1Selector.Cutoff(Zipf, mu, 100, 32000, new float[10], out double actualK);
        actualK.Should().BeApproximately(k, 1e-5 * k);
        Zipf.Count(z => z >= cutoff).Should().Be(kept);
    }

    [Fact]
    public void Spec_vector_mu_6_token_0_moves_mu_to_6_173419()
    {
        float cutoff = MirostatV1Selector.Cutoff(Zipf, 6, 100, 32000, new float[10], out _);
        double q = MirostatMath.RenormalisedProbability(Zipf, cutoff, 0);
        q.Should().BeApproximately(0.415867, 1e-6);
        (-Math.Log2(q)).Should().BeApproximately(1.265808, 1e-6);
        MirostatMath.NextMu(6, 3, 0.1, q).Should().BeApproximately(6.173419, 1e-6);
    }

    [Fact]
    public void Estimate_falls_back_to_all_tokens()
    {
        // A flat row: every ratio is 1, ŝ = 0 ⇒ k = |F|.
        float cutoff = MirostatV1Selector.Cutoff(new[] { 1f, 1f, 1f }, 2, 100, 100, new float[3], out double k);
        k.Should().Be(3);
        cutoff.Should().Be(1f);

        // One finite token: no pair at all.
        MirostatV1Selector.Cutoff(new[] { float.NegativeInfinity, 2f }, 2, 100, 100, new float[2], out k).Should().Be(2f);
        k.Should().Be(1);
        MirostatV1Selector.EstimateK(1 + 1e-9, 3, 100).Should().BeApproximately(8 / Math.Log(100), 1e-6);
    }

    [Fact]
    public void Selection_uses_mu_and_updates_it_with_the_renormalised_probability()
    {
        // Tau 2 gives mu0 = 4: top 2 only.
        var selector = new MirostatV1Selector(seed: 42, tau: 2, eta: 0.1, m: 100, nVocab: 32000);
        selector.MuOf(0).Should().Be(4);
        int token = Select(selector, Zipf, 1, 10)[0];
        token.Should().BeOneOf(0, 1);
        float cutoff = MirostatV1Selector.Cutoff(Zipf, 4, 100, 32000, new float[10], out _);
        double q = MirostatMath.RenormalisedProbability(Zipf, cutoff, token);
        selector.MuOf(0).Should().BeApproximately(MirostatMath.NextMu(4, 2, 0.1, q), 1e-9);
        selector.Name.Should().Be("mirostat-v1");
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        const ulong Seed = 99;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, TruncationTestKit.Seed(rows, vocab, 8));
            foreach (double tau in new[] { 1.0, 3.0, 5.0 })
            {
                var selector = new MirostatV1Selector(Seed, tau, 0.3, m: 20);
                var streams = Enumerable.Range(0, rows).Select(r => Xoshiro256StarStar.ForRow(Seed, r)).ToArray();
                var mu = Enumerable.Repeat(2 * tau, rows).ToArray();
                var diverged = new bool[rows];
                for (int call = 0; call < 3; call++)
                {
                    var tokens = Select(selector, data, rows, vocab);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = LogitData.Row(data, vocab, r);
                        var keep = ReferenceTruncation.MirostatV1Keep(row, mu[r], 20, vocab, out double kMargin);
                        var (token, q, drawMargin) = ReferenceTruncation.Draw(row, keep, streams[r].NextDouble());
                        diverged[r] |= kMargin < 1e-9 || drawMargin < 1e-9;
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
        var values = Enumerable.Repeat(Zipf, 2).SelectMany(r => r).ToArray();
        var selector = new MirostatV1Selector(seed: 5, tau: 3, eta: 0.5, nVocab: 32000);
        var first = Enumerable.Range(0, 12).Select(_ => Select(selector, values, 2, 10)).ToArray();
        double mu = selector.MuOf(1);

        selector.Reset();
        selector.MuOf(1).Should().Be(6);
        Enumerable.Range(0, 12).Select(_ => Select(selector, values, 2, 10)).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        selector.MuOf(1).Should().Be(mu);

        selector.Reset();
        for (int i = 0; i < 5; i++)
        {
            Select(selector, values, 2, 10);
        }

        double muAtFive = selector.MuOf(0);
        var clone = (MirostatV1Selector)selector.Clone();
        clone.MuOf(0).Should().Be(muAtFive);
        clone.NVocab.Should().Be(32000);
        Enumerable.Range(0, 7).Select(_ => Select(clone, values, 2, 10)).Should().BeEquivalentTo(first.Skip(5), o => o.WithStrictOrdering());
        selector.MuOf(0).Should().Be(muAtFive, "the clone does not disturb the source");
        Enumerable.Range(0, 7).Select(_ => Select(selector, values, 2, 10)).Should().BeEquivalentTo(first.Skip(5), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Empty_and_invalid_rows_throw()
    {
        var selector = new MirostatV1Selector(1);
        var empty = () => Select(selector, new[] { float.NegativeInfinity, float.NegativeInfinity }, 1, 2);
        empty.Should().Throw<NoViableTokenException>().Which.Row.Should().Be(0);
        var inf = () => Select(selector, new[] { 1f, 0f, 1f, float.PositiveInfinity }, 2, 2);
        var error = inf.Should().Throw<InvalidLogitsException>().Which;
        error.Row.Should().Be(1);
        error.TokenIndex.Should().Be(1);
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double bad in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new MirostatV1Selector(1, tau: bad), "tau");
        }

        foreach (double bad in new[] { -0.1, double.NaN, double.NegativeInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new MirostatV1Selector(1, eta: bad), "eta");
        }

        ShouldThrowOutOfRange(() => _ = new MirostatV1Selector(1, m: 1), "m");
        ShouldThrowOutOfRange(() => _ = new MirostatV1Selector(1, nVocab: 1), "nVocab");
    }
}

public sealed class CpuMirostatV1SelectorTests : MirostatV1SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

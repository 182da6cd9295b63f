using System;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Randomness;
using Logits.Selection;
using Logits.Tensors;
using Logits.Tests.Processing;
using Xunit;

namespace Logits.Tests.Selection;

public abstract class SelectorTests : ProcessorTestBase
{
    private int[] Select(ITokenSelector selector, float[] data, int rows, int vocab)
    {
        using var batch = Create(data, rows, vocab);
        var tokens = new int[rows];
        selector.SelectTokens(batch, SamplingContext.ForRows(rows), tokens);
        return tokens;
    }

    [Fact]
    public void Spec_7_8_greedy()
    {
        Select(GreedySelector.Instance, BaseRow, 1, 7).Should().Equal(0);
        Select(GreedySelector.Instance, new[] { 1f, 3f, 3f, NegInf }, 1, 4).Should().Equal(1);
        Select(GreedySelector.Instance, new[] { -0.0f, +0.0f }, 1, 2).Should().Equal(0);
        FluentActions.Invoking(() => Select(GreedySelector.Instance, new[] { NegInf, NegInf }, 1, 2)).Should().Throw<NoViableTokenException>();
    }

    [Fact]
    public void Spec_7_8_multinomial_seed_42_three_calls()
    {
        var selector = new MultinomialSelector(42);
        using var batch = Create(BaseRow, 1, 7);
        var contexts = SamplingContext.ForRows(1);
        var token = new int[1];
        var drawn = new int[3];
        for (int call = 0; call < 3; call++)
        {
            selector.SelectTokens(batch, contexts, token);
            drawn[call] = token[0];
        }

        drawn.Should().Equal(0, 0, 1);
    }

    [Fact]
    public void Spec_7_8_exponential_race()
    {
        // Fixed E = [0.1, 1, 2] means U = exp(-E).
        var fixedUniforms = new FixedUniforms(Math.Exp(-0.1), Math.Exp(-1), Math.Exp(-2));
        GumbelSelector.SelectRow(new[] { 1f, 2f, 3f }, fixedUniforms, 0).Should().Be(0);
        Select(new GumbelSelector(42), new[] { 1f, 2f, 3f }, 1, 3).Should().Equal(2);
    }

    [Fact]
    public void Seeded_selectors_reproduce_and_reset_clone_behave()
    {
        foreach (Func<ITokenSelector> make in new Func<ITokenSelector>[] { () => new MultinomialSelector(9), () => new GumbelSelector(9) })
        {
            var data = Logits.Tests.Infrastructure.LogitData.Random(3, 50, 5);
            var a = make();
            var first = Enumerable.Range(0, 5).Select(_ => Select(a, data, 3, 50)).ToArray();
            ((IStatefulSampler)a).Reset();
            var again = Enumerable.Range(0, 5).Select(_ => Select(a, data, 3, 50)).ToArray();
            again.Should().BeEquivalentTo(first, o => o.WithStrictOrdering(), "Reset reseeds");

            var b = make();
            Select(b, data, 3, 50);
            var copy = (ITokenSelector)((IStatefulSampler)b).Clone();
            var fromCopy = Select(copy, data, 3, 50);
            Select(b, data, 3, 50).Should().Equal(fromCopy, "the clone continues from the source's position without moving it");
        }
    }

    [Fact]
    public void A_batch_gives_each_row_the_stream_seed_plus_row()
    {
        var data = Logits.Tests.Infrastructure.LogitData.Random(4, 300, 21);
        var batched = Select(new MultinomialSelector(100), data, 4, 300);
        for (int r = 0; r < 4; r++)
        {
            var row = Logits.Tests.Infrastructure.LogitData.Row(data, 300, r);
            Select(new MultinomialSelector(100 + (ulong)r), row, 1, 300)[0].Should().Be(batched[r], $"row {r} alone with seed + {r}");
        }
    }

    [Fact]
    public void Selectors_never_return_a_removed_token()
    {
        var row = new[] { NegInf, 0f, NegInf, 0f, NegInf };
        foreach (var selector in new ITokenSelector[] { new MultinomialSelector(1), new GumbelSelector(1) })
        {
            for (int i = 0; i < 200; i++)
            {
                Select(selector, row, 1, 5)[0].Should().BeOneOf(1, 3);
            }
        }
    }

    private sealed class FixedUniforms(params double[] values) : IRandomSource
    {
        private int _next;

        // NextOpenDouble computes ((x >> 11) + 0.5) * 2^-53; invert it so the given uniform comes out.
        public ulong NextUInt64() => ((ulong)((values[_next++] * (1UL << 53)) - 0.5)) << 11;

        public IRandomSource Clone() => new FixedUniforms(values);
    }
}

public sealed class CpuSelectorTests : SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using CsCheck;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Penalties.PenaltyTestSupport;

namespace Logits.Tests.Processing.Penalties;

/// <summary><see cref="NoRepeatNGramProcessor"/> against docs/algorithms/penalties.md#no-repeat-n-gram and the HF-style reference, on every backend.</summary>
public abstract class NoRepeatNGramProcessorTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private float[] RunOne(float[] row, ILogitProcessor processor, int[] history, int promptLength = 0)
    {
        using var batch = Create(row, 1, row.Length);
        return Run(batch, processor, Context(history, promptLength))[0];
    }

    private static double[] Expected(float[] row, System.Collections.Generic.IEnumerable<int> banned)
    {
        var expected = ToDouble(row);
        foreach (int t in banned)
        {
            expected[t] = double.NegativeInfinity;
        }

        return expected;
    }

    public static TheoryData<int[], int, int[]> SpecCases() => new()
    {
        { new[] { 1, 2, 3, 1, 2 }, 3, new[] { 3 } },
        { new[] { 1, 2, 3, 1, 2 }, 2, new[] { 3 } },
        { new[] { 1, 2, 1, 2, 1 }, 2, new[] { 2 } },
        { new[] { 1, 2, 3 }, 1, new[] { 1, 2, 3 } },
        { new[] { 1, 2 }, 3, Array.Empty<int>() },
        { new[] { 4, 4 }, 3, Array.Empty<int>() },
    };

    [Theory]
    [MemberData(nameof(SpecCases))]
    public void Spec_vectors(int[] history, int n, int[] banned)
    {
        var row = Enumerable.Range(0, 10).Select(i => (float)(i * 0.5 - 2)).ToArray();
        var result = RunOne(row, new NoRepeatNGramProcessor(n), history);
        AssertRowClose(result, Expected(row, banned), 0, $"[{string.Join(",", history)}], N={n}");
    }

    [Fact]
    public void Scope_padding_and_ids()
    {
        var row = new float[10];

        // Output only, prompt [1, 2, 3]: the output [1, 2] holds no earlier [1, 2].
        RunOne(row, new NoRepeatNGramProcessor(3, PenaltyScope.OutputOnly), new[] { 1, 2, 3, 1, 2 }, 3).Should().OnlyContain(v => v == 0);

        // Padding is removed: [1, 2, 3, 1, 2] again.
        AssertRowClose(RunOne(row, new NoRepeatNGramProcessor(3), new[] { -1, 1, 2, -1, 3, 1, 2 }), Expected(row, new[] { 3 }), 0, "padding");

        using var batch = Create(row, 1, 10);
        var act = () => new NoRepeatNGramProcessor(2).Process(batch, Context(new[] { 1, 12 }));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");
    }

    [Theory]
    [MemberData(nameof(PenaltyTestSupport.VocabCases), MemberType = typeof(PenaltyTestSupport))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            int seed = (vocab * 47) + rows;
            var rng = new Random(seed);
            var data = LogitData.Random(rows, vocab, seed);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, vocab, 60)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            int n = rng.Next(1, 5);
            var scope = rng.Next(2) == 0 ? PenaltyScope.PromptAndOutput : PenaltyScope.OutputOnly;

            using var batch = Create(data, rows, vocab);
            var actual = Run(batch, new NoRepeatNGramProcessor(n, scope), Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var ids = ReferencePenalties.Window(histories[r], prompts[r], scope == PenaltyScope.OutputOnly, -1, vocab);
                AssertRowClose(actual[r], Expected(row, ReferencePenalties.NoRepeatNGramBans(ids, n)), 0, $"vocab {vocab}, rows {rows}, row {r}, N {n}, {scope}");
            }
        }
    }

    [Fact]
    public void Property_matches_reference()
    {
        var cases = Gen.Select(Gen.Int[-1, 5].Array[0, 40], Gen.Int[1, 5], Gen.Float[-5f, 5f].Array[6]);
        cases.Sample((history, n, row) =>
        {
            var result = RunOne(row, new NoRepeatNGramProcessor(n), history);
            var ids = history.Where(t => t >= 0).ToArray();
            AssertRowClose(result, Expected(row, ReferencePenalties.NoRepeatNGramBans(ids, n)), 0, $"[{string.Join(",", history)}], N={n}");
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void All_negative_infinity_row_passes_through_unchanged()
    {
        var data = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 1f, 2f, 3f };
        using var batch = Create(data, 2, 3);
        var actual = Run(batch, new NoRepeatNGramProcessor(1), Contexts(new[] { new[] { 0, 1 }, new[] { 2 } }));
        actual[0].Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
        actual[1].Should().Equal(1f, 2f, float.NegativeInfinity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Invalid_ngram_size_throws(int n)
    {
        var act = () => new NoRepeatNGramProcessor(n);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("ngramSize");
        var scope = () => new NoRepeatNGramProcessor(2, (PenaltyScope)9);
        scope.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scope");
    }

    [Fact]
    public void Definition_and_builder()
    {
        var processor = new NoRepeatNGramProcessor(3);
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Name.Should().Be("no-repeat-ngram");
        LogitPipeline.CreateBuilder().NoRepeatNGram(3).Processors.Single().Should().BeOfType<NoRepeatNGramProcessor>().Which.NGramSize.Should().Be(3);
    }
}

/// <summary>No-repeat n-gram on the CPU backend.</summary>
public sealed class CpuNoRepeatNGramProcessorTests : NoRepeatNGramProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

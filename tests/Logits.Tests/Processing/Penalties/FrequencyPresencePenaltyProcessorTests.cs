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

/// <summary><see cref="FrequencyPresencePenaltyProcessor"/> against docs/algorithms/penalties.md#frequency-and-presence and <see cref="ReferencePenalties"/>, on every backend.</summary>
public abstract class FrequencyPresencePenaltyProcessorTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private float[] RunOne(float[] row, ILogitProcessor processor, int[] history, int promptLength = 0)
    {
        using var batch = Create(row, 1, row.Length);
        return Run(batch, processor, Context(history, promptLength))[0];
    }

    [Fact]
    public void Spec_vector_frequency_and_presence()
    {
        var result = RunOne(SpecRow, new FrequencyPresencePenaltyProcessor(0.5, 0.3), SpecHistory);
        AssertRowClose(result, new[] { 1.2, -2.3, 0.5, -0.8, 1.0 }, 1, "f=0.5, p=0.3");
    }

    [Fact]
    public void Spec_vector_output_only_with_prompt_length()
    {
        var result = RunOne(SpecRow, new FrequencyPresencePenaltyProcessor(0.5, 0.3), SpecHistory, promptLength: 2);
        AssertRowClose(result, new[] { 2.0, -1.8, 0.5, -0.8, 1.0 }, 1, "OutputOnly, PromptLength 2");

        var all = RunOne(SpecRow, new FrequencyPresencePenaltyProcessor(0.5, 0.3, PenaltyScope.PromptAndOutput), SpecHistory, promptLength: 2);
        AssertRowClose(all, new[] { 1.2, -2.3, 0.5, -0.8, 1.0 }, 1, "PromptAndOutput, PromptLength 2");
    }

    [Fact]
    public void Spec_vector_padding_ignored_and_id_at_or_above_vocab_throws()
    {
        var result = RunOne(SpecRow, new FrequencyPresencePenaltyProcessor(0.5, 0.3), new[] { -1, 0, 1, -1, 1, 3 });
        AssertRowClose(result, new[] { 1.2, -2.3, 0.5, -0.8, 1.0 }, 1, "padding");

        using var batch = Create(SpecRow, 1, 5);
        var act = () => new FrequencyPresencePenaltyProcessor(0.5, 0.3).Process(batch, Context(new[] { 0, 7 }));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");
    }

    [Fact]
    public void Window_counts_only_the_last_tokens()
    {
        // The last 3 real tokens of [0, 1, 1, 3] are [1, 1, 3].
        var result = RunOne(SpecRow, new FrequencyPresencePenaltyProcessor(0.5, 0.3, window: 3), SpecHistory);
        AssertRowClose(result, new[] { 2.0, -2.3, 0.5, -0.8, 1.0 }, 1, "window 3");
    }

    [Fact]
    public void Huge_penalty_bans_and_huge_negative_penalty_overflow_throws()
    {
        var row = new[] { -3e38f, 3e38f, 1f };
        var banned = RunOne(row, new FrequencyPresencePenaltyProcessor(1e38, 0), new[] { 0 });
        banned.Should().Equal(float.NegativeInfinity, 3e38f, 1f);

        using var batch = Create(row, 1, 3);
        var act = () => new FrequencyPresencePenaltyProcessor(-1e38, 0).Process(batch, Context(new[] { 1 }));
        act.Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("frequency-presence-penalty");
    }

    [Theory]
    [MemberData(nameof(PenaltyTestSupport.VocabCases), MemberType = typeof(PenaltyTestSupport))]
    public void Matches_reference_with_per_row_parameters(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            int seed = (vocab * 37) + rows;
            var rng = new Random(seed);
            var data = LogitData.Random(rows, vocab, seed);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, vocab, 40)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var frequency = Enumerable.Range(0, rows).Select(r => new[] { 0.0, 0.5, -1.0, 2.0, 5.0 }[(r + seed) % 5]).ToArray();
            var presence = Enumerable.Range(0, rows).Select(r => new[] { 0.3, 0.0, 1.5, -2.0 }[(r + seed) % 4]).ToArray();
            var scope = rng.Next(2) == 0 ? PenaltyScope.PromptAndOutput : PenaltyScope.OutputOnly;
            int window = new[] { -1, 1, 3, 64 }[rng.Next(4)];
            var processor = new FrequencyPresencePenaltyProcessor(frequency, presence, scope, window);

            using var batch = Create(data, rows, vocab);
            var actual = Run(batch, processor, Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var ids = ReferencePenalties.Window(histories[r], prompts[r], scope == PenaltyScope.OutputOnly, window, vocab);
                var expected = ReferencePenalties.FrequencyPresence(ToDouble(row), ids, frequency[r], presence[r]);
                AssertRowClose(actual[r], expected, 0, $"vocab {vocab}, rows {rows}, row {r}, f {frequency[r]}, p {presence[r]}, {scope}, window {window}");
            }
        }
    }

    [Fact]
    public void Property_matches_reference()
    {
        var entry = Gen.Frequency((9, Gen.Float[-50f, 50f]), (1, Gen.Const(float.NegativeInfinity)));
        var cases = Gen.Int[1, 40].SelectMany(vocab => Gen.Select(
            entry.Array[vocab],
            Gen.Int[-1, vocab - 1].Array[0, 30],
            Gen.Int[0, 30],
            Gen.Double[-3.0, 3.0],
            Gen.Double[-3.0, 3.0],
            (row, history, prompt, f, p) => (row, history, Math.Min(prompt, history.Length), f, p)));

        cases.Sample(c =>
        {
            var (row, history, prompt, f, p) = c;
            var result = RunOne(row, new FrequencyPresencePenaltyProcessor(f, p), history, prompt);
            var ids = ReferencePenalties.Window(history, prompt, outputOnly: true, -1, row.Length);
            AssertRowClose(result, ReferencePenalties.FrequencyPresence(ToDouble(row), ids, f, p), 0, "property");
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void All_negative_infinity_row_passes_through_unchanged()
    {
        var data = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 1f, -2f, 0.5f };
        using var batch = Create(data, 2, 3);
        var actual = Run(batch, new FrequencyPresencePenaltyProcessor(1, 1), Contexts(new[] { new[] { 0, 1, 2 }, new[] { 0, 0 } }));
        actual[0].Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
        actual[1].Should().Equal(-2f, -2f, 0.5f);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_penalties_throw(double value)
    {
        var f = () => new FrequencyPresencePenaltyProcessor(value, 0);
        f.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frequencyPenalty");
        var p = () => new FrequencyPresencePenaltyProcessor(0, new[] { 0.0, value });
        p.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("presencePenalty");
    }

    [Fact]
    public void Invalid_window_and_scope_throw()
    {
        var window = () => new FrequencyPresencePenaltyProcessor(0.5, 0.5, window: 0);
        window.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("window");
        var scope = () => new FrequencyPresencePenaltyProcessor(0.5, 0.5, (PenaltyScope)(-1));
        scope.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scope");
    }

    [Fact]
    public void Definition_and_builder()
    {
        var processor = new FrequencyPresencePenaltyProcessor(0.5, 0.3);
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Scope.Should().Be(PenaltyScope.OutputOnly);
        LogitPipeline.CreateBuilder().FrequencyPresencePenalty(0.5, 0.3).Processors.Single().Should().BeOfType<FrequencyPresencePenaltyProcessor>();
    }
}

/// <summary>Frequency/presence penalties on the CPU backend.</summary>
public sealed class CpuFrequencyPresencePenaltyProcessorTests : FrequencyPresencePenaltyProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

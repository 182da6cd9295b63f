using System;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Penalties.PenaltyTestSupport;

namespace Logits.Tests.Processing.Penalties;

/// <summary>The combined <see cref="PenaltiesProcessor"/> against docs/algorithms/penalties.md#combined-penalties, the reference and the two separate processors, on every backend.</summary>
public abstract class PenaltiesProcessorTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private float[] RunOne(float[] row, ILogitProcessor processor, int[] history, int promptLength = 0)
    {
        using var batch = Create(row, 1, row.Length);
        return Run(batch, processor, Context(history, promptLength))[0];
    }

    [Fact]
    public void Spec_vector_repetition_then_frequency_then_presence()
    {
        var result = RunOne(SpecRow, new PenaltiesProcessor(1.5, 0.5, 0.3), SpecHistory);
        AssertRowClose(result, new[] { 0.533333, -2.8, 0.5, -0.8, 1.0 }, 1e-6 / Tolerance.Relative, "combined");
    }

    [Fact]
    public void Spec_vectors_padding_and_id_at_or_above_vocab()
    {
        var result = RunOne(SpecRow, new PenaltiesProcessor(1.5, 0.5, 0.3), new[] { 0, -1, 1, 1, -1, 3 });
        AssertRowClose(result, new[] { 0.533333, -2.8, 0.5, -0.8, 1.0 }, 1e-6 / Tolerance.Relative, "padding");

        using var batch = Create(SpecRow, 1, 5);
        var act = () => new PenaltiesProcessor(1.5, 0.5, 0.3).Process(batch, Context(new[] { 0, 5 }));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");
    }

    [Fact]
    public void Scopes_are_separate()
    {
        // PromptLength 2: repetition reads [0, 1, 1, 3]; frequency/presence read [1, 3].
        var result = RunOne(SpecRow, new PenaltiesProcessor(1.5, 0.5, 0.3), SpecHistory, promptLength: 2);
        AssertRowClose(result, new[] { 1.333333, -2.3, 0.5, -0.8, 1.0 }, 1e-6 / Tolerance.Relative, "scopes");

        var llama = RunOne(SpecRow, new PenaltiesProcessor(1.5, 0.5, 0.3, frequencyPresenceScope: PenaltyScope.PromptAndOutput), SpecHistory, promptLength: 2);
        AssertRowClose(llama, new[] { 0.533333, -2.8, 0.5, -0.8, 1.0 }, 1e-6 / Tolerance.Relative, "both over prompt and output");
    }

    [Theory]
    [MemberData(nameof(PenaltyTestSupport.VocabCases), MemberType = typeof(PenaltyTestSupport))]
    public void Matches_reference_and_the_separate_processors(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            int seed = (vocab * 41) + rows;
            var rng = new Random(seed);
            var data = LogitData.Random(rows, vocab, seed);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, vocab, 40)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var theta = Enumerable.Range(0, rows).Select(r => new[] { 1.0, 1.5, 0.7, 3.0 }[(r + seed) % 4]).ToArray();
            var frequency = Enumerable.Range(0, rows).Select(r => new[] { 0.0, 0.5, -1.0, 2.0, 5.0 }[(r + seed) % 5]).ToArray();
            var presence = Enumerable.Range(0, rows).Select(r => new[] { 0.3, 0.0, 1.5 }[(r + seed) % 3]).ToArray();
            var repetitionScope = rng.Next(2) == 0 ? PenaltyScope.PromptAndOutput : PenaltyScope.OutputOnly;
            var frequencyPresenceScope = rng.Next(2) == 0 ? PenaltyScope.PromptAndOutput : PenaltyScope.OutputOnly;
            int window = new[] { -1, 1, 3, 64 }[rng.Next(4)];
            bool normalize = rng.Next(4) == 0;
            var contexts = Contexts(histories, prompts);

            using var batch = Create(data, rows, vocab);
            var actual = Run(batch, new PenaltiesProcessor(theta, frequency, presence, window, repetitionScope, frequencyPresenceScope, normalize), contexts);

            using var separate = Create(data, rows, vocab);
            new RepetitionPenaltyProcessor(theta, repetitionScope, window, normalize).Process(separate, contexts);
            var sequential = Run(separate, new FrequencyPresencePenaltyProcessor(frequency, presence, frequencyPresenceScope, window), contexts);

            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var repetitionIds = ReferencePenalties.Window(histories[r], prompts[r], repetitionScope == PenaltyScope.OutputOnly, window, vocab);
                var countIds = ReferencePenalties.Window(histories[r], prompts[r], frequencyPresenceScope == PenaltyScope.OutputOnly, window, vocab);
                var expected = ReferencePenalties.FrequencyPresence(
                    ReferencePenalties.Repetition(ToDouble(row), repetitionIds, theta[r], normalize), countIds, frequency[r], presence[r]);
                double scale = (normalize ? Scale(ToDouble(row)) * Math.Max(1, theta[r]) : 0) + (Scale(expected) * 1e-2);
                string what = $"vocab {vocab}, rows {rows}, row {r}, θ {theta[r]}, f {frequency[r]}, p {presence[r]}, {repetitionScope}/{frequencyPresenceScope}, window {window}, normalize {normalize}";
                AssertRowClose(actual[r], expected, scale, what);
                AssertRowClose(actual[r], ToDouble(sequential[r]), scale, "separate processors: " + what);
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through_unchanged()
    {
        var data = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 1f, -2f, 0.5f };
        using var batch = Create(data, 2, 3);
        var actual = Run(batch, new PenaltiesProcessor(2, 1, 1), Contexts(new[] { new[] { 0, 1, 2 }, new[] { 0, 0 } }));
        actual[0].Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
        actual[1].Should().Equal(-2.5f, -2f, 0.5f);
    }

    [Fact]
    public void Invalid_parameters_throw_with_their_names()
    {
        ((Action)(() => _ = new PenaltiesProcessor(0, 0, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("repetitionPenalty");
        ((Action)(() => _ = new PenaltiesProcessor(1, double.NaN, 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frequencyPenalty");
        ((Action)(() => _ = new PenaltiesProcessor(1, 0, double.PositiveInfinity))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("presencePenalty");
        ((Action)(() => _ = new PenaltiesProcessor(1, 0, 0, window: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("window");
        ((Action)(() => _ = new PenaltiesProcessor(1, 0, 0, repetitionScope: (PenaltyScope)5))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("repetitionScope");
        ((Action)(() => _ = new PenaltiesProcessor(1, 0, 0, frequencyPresenceScope: (PenaltyScope)5))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frequencyPresenceScope");
    }

    [Fact]
    public void Definition_and_builder()
    {
        var processor = new PenaltiesProcessor(1.1, 0.2, 0.1, window: 64);
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Name.Should().Be("penalties");
        LogitPipeline.CreateBuilder().Penalties(1.1, 0.2, 0.1, window: 64).Processors.Single()
            .Should().BeOfType<PenaltiesProcessor>().Which.Window.Should().Be(64);
    }
}

/// <summary>The combined penalties on the CPU backend.</summary>
public sealed class CpuPenaltiesProcessorTests : PenaltiesProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

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

/// <summary><see cref="RepetitionPenaltyProcessor"/> against docs/algorithms/penalties.md#repetition-penalty and <see cref="ReferencePenalties"/>, on every backend.</summary>
public abstract class RepetitionPenaltyProcessorTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private float[] RunOne(float[] row, ILogitProcessor processor, int[] history, int promptLength = 0)
    {
        using var batch = Create(row, 1, row.Length);
        return Run(batch, processor, Context(history, promptLength))[0];
    }

    [Fact]
    public void Spec_vector_penalises_each_distinct_token_once_and_zero_stays_zero()
    {
        var result = RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5), SpecHistory);
        AssertRowClose(result, new[] { 1.333333, -1.5, 0.5, 0.0, 1.0 }, 1e-6 / Tolerance.Relative, "θ=1.5");
    }

    [Fact]
    public void Spec_vector_normalize_first_multiplies_log_probabilities()
    {
        var result = RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5, normalizeFirst: true), SpecHistory);
        AssertRowClose(result, new[] { -0.861657, -5.361657, -2.074438, -3.861657, -1.574438 }, 1e-6 / Tolerance.Relative, "normalize");
    }

    [Fact]
    public void Spec_vector_padding_is_ignored()
    {
        var result = RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5), new[] { -1, 0, -1, 1, 1, 3, -1 });
        AssertRowClose(result, new[] { 1.333333, -1.5, 0.5, 0.0, 1.0 }, 1e-6 / Tolerance.Relative, "padding");
    }

    [Fact]
    public void Spec_vector_history_id_at_or_above_vocab_throws()
    {
        using var batch = Create(SpecRow, 1, 5);
        var act = () => new RepetitionPenaltyProcessor(1.5).Process(batch, Context(new[] { 0, 5 }));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");
    }

    [Fact]
    public void Output_only_scope_and_window_read_the_right_tokens()
    {
        // OutputOnly with PromptLength 2 reads [1, 3]; a window of 2 reads the same; a window of 1 reads [3].
        var expected = new[] { 2.0, -1.5, 0.5, 0.0, 1.0 };
        AssertRowClose(RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5, PenaltyScope.OutputOnly), SpecHistory, 2), expected, 1, "output only");
        AssertRowClose(RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5, window: 2), SpecHistory), expected, 1, "window 2");
        AssertRowClose(RunOne(SpecRow, new RepetitionPenaltyProcessor(1.5, window: 1), SpecHistory), ToDouble(SpecRow), 1, "window 1");

        // Padding occupies no window slot: the last real token is 0.
        AssertRowClose(RunOne(SpecRow, new RepetitionPenaltyProcessor(2, window: 1), new[] { 0, -1, -1 }), new[] { 1.0, -1, 0.5, 0, 1 }, 1, "padding window");
    }

    [Fact]
    public void Theta_below_one_encourages()
    {
        var result = RunOne(SpecRow, new RepetitionPenaltyProcessor(0.5), SpecHistory);
        AssertRowClose(result, new[] { 4.0, -0.5, 0.5, 0.0, 1.0 }, 1, "θ=0.5");
    }

    [Fact]
    public void Overflow_below_bans_and_above_throws()
    {
        RunOne(new[] { -3e38f, 1f }, new RepetitionPenaltyProcessor(10), new[] { 0 }).Should().Equal(float.NegativeInfinity, 1f);

        using var batch = Create(new[] { 3e38f, 1f }, 1, 2);
        var act = () => new RepetitionPenaltyProcessor(0.1).Process(batch, Context(new[] { 0 }));
        act.Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("repetition-penalty");
    }

    [Theory]
    [MemberData(nameof(PenaltyTestSupport.VocabCases), MemberType = typeof(PenaltyTestSupport))]
    public void Matches_reference_with_per_row_parameters(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            int seed = (vocab * 31) + rows;
            var rng = new Random(seed);
            var data = LogitData.Random(rows, vocab, seed);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, vocab, 40)).ToArray();
            var prompts = histories.Select(h => rng.Next(h.Length + 1)).ToArray();
            var thetas = Enumerable.Range(0, rows).Select(r => new[] { 1.0, 1.5, 0.7, 3.0, 1e-3 }[(r + seed) % 5]).ToArray();
            var scope = rng.Next(2) == 0 ? PenaltyScope.PromptAndOutput : PenaltyScope.OutputOnly;
            int window = new[] { -1, 1, 3, 64 }[rng.Next(4)];
            bool normalize = rng.Next(4) == 0;
            var processor = new RepetitionPenaltyProcessor(thetas, scope, window, normalize);

            using var batch = Create(data, rows, vocab);
            var actual = Run(batch, processor, Contexts(histories, prompts));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var ids = ReferencePenalties.Window(histories[r], prompts[r], scope == PenaltyScope.OutputOnly, window, vocab);
                var expected = ReferencePenalties.Repetition(ToDouble(row), ids, thetas[r], normalize);
                double scale = normalize ? Scale(ToDouble(row)) * Math.Max(1, thetas[r]) : 0;
                AssertRowClose(actual[r], expected, scale, $"vocab {vocab}, rows {rows}, row {r}, θ {thetas[r]}, {scope}, window {window}, normalize {normalize}");
            }
        }
    }

    [Fact]
    public void Property_matches_reference_keeps_signs_and_leaves_absent_tokens_alone()
    {
        var finite = Gen.Float[-50f, 50f];
        var entry = Gen.Frequency((8, finite), (1, Gen.Const(0f)), (1, Gen.Const(float.NegativeInfinity)));
        var cases = Gen.Int[1, 40].SelectMany(vocab => Gen.Select(
            entry.Array[vocab],
            Gen.Int[-1, vocab - 1].Array[0, 30],
            Gen.Int[0, 30],
            Gen.Double[0.05, 5.0],
            Gen.Int[-1, 8],
            (row, history, prompt, theta, window) => (row, history, Math.Min(prompt, history.Length), theta, window == 0 ? -1 : window)));

        cases.Sample(c =>
        {
            var (row, history, prompt, theta, window) = c;
            var result = RunOne(row, new RepetitionPenaltyProcessor(theta, PenaltyScope.OutputOnly, window), history, prompt);
            var ids = ReferencePenalties.Window(history, prompt, outputOnly: true, window, row.Length);
            var expected = ReferencePenalties.Repetition(ToDouble(row), ids, theta);
            AssertRowClose(result, expected, 0, "property");
            for (int i = 0; i < row.Length; i++)
            {
                Math.Sign(result[i]).Should().Be(Math.Sign(row[i]), "the repetition penalty never changes a sign");
                if (!ids.Contains(i))
                {
                    BitConverter.SingleToInt32Bits(result[i]).Should().Be(BitConverter.SingleToInt32Bits(row[i]), "tokens absent from the window are untouched");
                }
            }
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void All_negative_infinity_row_passes_through_unchanged()
    {
        var data = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 1f, -2f, 0.5f };
        using var batch = Create(data, 2, 3);
        var actual = Run(batch, new RepetitionPenaltyProcessor(2, normalizeFirst: false), Contexts(new[] { new[] { 0, 1, 2 }, new[] { 0, 1 } }));
        actual[0].Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
        actual[1].Should().Equal(0.5f, -4f, 0.5f);

        using var normalized = Create(data, 2, 3);
        Run(normalized, new RepetitionPenaltyProcessor(2, normalizeFirst: true), Contexts(new[] { new[] { 0, 1, 2 }, new[] { 0, 1 } }))[0]
            .Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Invalid_penalty_throws(double theta)
    {
        var act = () => new RepetitionPenaltyProcessor(theta);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("penalty");
        var perRow = () => new RepetitionPenaltyProcessor(new[] { 1.5, theta });
        perRow.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("penalty");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Invalid_window_throws(int window)
    {
        var act = () => new RepetitionPenaltyProcessor(1.5, window: window);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("window");
    }

    [Fact]
    public void Invalid_scope_and_per_row_count_throw()
    {
        var act = () => new RepetitionPenaltyProcessor(1.5, (PenaltyScope)7);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scope");

        using var batch = Create(new float[10], 2, 5);
        var rows = () => new RepetitionPenaltyProcessor(new[] { 1.5, 2, 3 }).Process(batch, Contexts(new[] { new[] { 0 }, new[] { 1 } }));
        rows.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Definition_and_builder()
    {
        var processor = new RepetitionPenaltyProcessor(1.3);
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Name.Should().Be("repetition-penalty");
        processor.Scope.Should().Be(PenaltyScope.PromptAndOutput);
        processor.Window.Should().Be(-1);
        LogitPipeline.CreateBuilder().RepetitionPenalty(1.3, window: 64).Processors.Single()
            .Should().BeOfType<RepetitionPenaltyProcessor>().Which.Window.Should().Be(64);
    }
}

/// <summary>The repetition penalty on the CPU backend.</summary>
public sealed class CpuRepetitionPenaltyProcessorTests : RepetitionPenaltyProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Collections.Generic;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.Tests.Processing;
using Xunit;

namespace Logits.Tests.Pipelines;

public abstract class PipelineTests : ProcessorTestBase
{
    private float[] Processed(LogitPipeline pipeline, float[] row)
    {
        using var batch = Create(row, 1, row.Length);
        pipeline.Process(batch, SamplingContext.ForRows(1));
        return batch.ToArray();
    }

    [Fact]
    public void Spec_7_9_temperature_position_changes_the_kept_set()
    {
        var row = new[] { 3f, 2f, 1f };
        var temperatureFirst = LogitPipeline.CreateBuilder().Temperature(0.5f).TopP(0.8).Multinomial(1);
        var temperatureLast = LogitPipeline.CreateBuilder().TopP(0.8).Temperature(0.5f).Multinomial(1);
        Kept(Processed(temperatureFirst, row)).Should().Equal(0);
        Kept(Processed(temperatureLast, row)).Should().Equal(0, 1);

        Kept(Processed(LogitPipeline.CreateBuilder().Temperature(2f).MinP(0.1).Multinomial(1), BaseRow)).Should().Equal(0, 1, 2, 3, 4, 5);
        Kept(Processed(LogitPipeline.CreateBuilder().MinP(0.1).Temperature(2f).Multinomial(1), BaseRow)).Should().Equal(0, 1, 2);
    }

    // Issue 14, API consistency: Process on a greedy pipeline skipped argmax-invariant processors, so
    // .Temperature(0.5f).TopK(1).Greedy() returned raw logits from Process.
    [Fact]
    public void Process_runs_every_processor_even_with_a_greedy_selector()
    {
        var pipeline = LogitPipeline.CreateBuilder().Temperature(0.5f).TopK(1).Greedy();
        var processed = Processed(pipeline, new[] { 1f, 3f, 2f });
        processed.Should().Equal(NegInf, 6f, NegInf);

        var spy = new SpyProcessor(argmaxInvariant: true);
        var withSpy = LogitPipeline.CreateBuilder().Add(spy).Greedy();
        Processed(withSpy, BaseRow);
        spy.Calls.Should().Be(1, "Process returns what the processors make");
    }

    [Fact]
    public void A_greedy_pipeline_skips_argmax_invariant_processors_only()
    {
        var spy = new SpyProcessor(argmaxInvariant: true);
        var other = new SpyProcessor(argmaxInvariant: false);
        var pipeline = LogitPipeline.CreateBuilder().Add(spy).Add(other).Greedy();
        using var batch = Create(BaseRow, 1, 7);
        pipeline.Sample(batch, new SamplingContext()).Should().Be(0);
        spy.Calls.Should().Be(0);
        other.Calls.Should().Be(1);
    }

    [Fact]
    public void Input_checks_and_checked_mode_attribute_invalid_values()
    {
        var pipeline = LogitPipeline.CreateBuilder().TopK(3).Multinomial(1);
        var error = FluentActions.Invoking(() => Processed(pipeline, new[] { 1f, float.NaN })).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((0, 1, "input"));

        var checkedPipeline = LogitPipeline.CreateBuilder().CheckEveryStage().Add(new SpyProcessor(false, writeNaNAt: 2)).TopK(3).Multinomial(1);
        var attributed = FluentActions.Invoking(() => Processed(checkedPipeline, BaseRow)).Should().Throw<InvalidLogitsException>().Which;
        (attributed.TokenIndex, attributed.Stage).Should().Be((2, "spy"));
    }

    [Fact]
    public void An_emptied_row_makes_the_selector_throw_naming_the_row()
    {
        var pipeline = LogitPipeline.CreateBuilder().TopP(0.9).Multinomial(3);
        using var batch = Create(new[] { 1f, 2f, NegInf, NegInf }, 2, 2);
        var tokens = new int[2];
        FluentActions.Invoking(() => pipeline.Sample(batch, SamplingContext.ForRows(2), tokens))
            .Should().Throw<NoViableTokenException>().Which.Row.Should().Be(1);
    }

    [Fact]
    public void Default_llama_chain_samples_only_kept_tokens_and_reproduces_after_reset()
    {
        var data = LogitData.Random(3, 4097, 77);
        var pipeline = LogitPipeline.CreateBuilder().TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8f).Multinomial(2024);
        var first = SampleMany(pipeline, data, 3, 4097, 20);
        pipeline.Reset();
        SampleMany(pipeline, data, 3, 4097, 20).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());
        var clone = pipeline.Clone();
        clone.Reset();
        SampleMany(clone, data, 3, 4097, 20).Should().BeEquivalentTo(first, o => o.WithStrictOrdering());

        foreach (var tokens in first)
        {
            for (int r = 0; r < 3; r++)
            {
                var expected = ReferenceProcessors.TopK(LogitData.Row(data, 4097, r), 40, 1);
                float.IsNegativeInfinity(expected[tokens[r]]).Should().BeFalse("a token outside the top 40 was sampled");
            }
        }
    }

    [Fact]
    public void Results_do_not_depend_on_the_parallel_path_or_the_batch_split()
    {
        // 64 x 4097 takes the parallel CPU path; each row alone with seed + r takes the serial one.
        const int rows = 64;
        const int vocab = 4097;
        var data = LogitData.Random(rows, vocab, 5);
        var batched = SampleMany(LogitPipeline.CreateBuilder().TopK(50).TopP(0.9).Temperature(0.7f).Multinomial(500), data, rows, vocab, 1)[0];
        for (int r = 0; r < rows; r += 7)
        {
            var single = SampleMany(LogitPipeline.CreateBuilder().TopK(50).TopP(0.9).Temperature(0.7f).Multinomial(500 + (ulong)r), LogitData.Row(data, vocab, r), 1, vocab, 1)[0];
            single[0].Should().Be(batched[r], $"row {r}");
        }
    }

    // Issue 14, defect 5: two pipelines built from one builder shared the stateful XTC instance, so drawing from
    // one changed the other's random stream (18 of 40 draws differed from a solo run).
    [Fact]
    public void Two_pipelines_built_from_one_builder_do_not_share_state()
    {
        var data = LogitData.Random(1, 64, 21);
        var builder = LogitPipeline.CreateBuilder().Xtc(0.5, 0.01, seed: 9).Temperature(1.5f);
        var p1 = builder.Multinomial(1);
        var p2 = builder.Multinomial(2);
        p1.Processors[0].Should().NotBeSameAs(p2.Processors[0]);

        var solo = SampleMany(LogitPipeline.CreateBuilder().Xtc(0.5, 0.01, seed: 9).Temperature(1.5f).Multinomial(1), data, 1, 64, 40);
        var interleaved = new List<int[]>();
        for (int i = 0; i < 40; i++)
        {
            interleaved.AddRange(SampleMany(p1, data, 1, 64, 1));
            SampleMany(p2, data, 1, 64, 1);
        }

        interleaved.Should().BeEquivalentTo(solo, o => o.WithStrictOrdering(), "p2's draws must not move p1's XTC stream");
    }

    // Issue 14, defect 9: Checked mode named the kernel ("scale", "sample"), not the processor, and a null context
    // gave NullReferenceException.
    [Fact]
    public void Checked_mode_names_the_processor_whose_kernel_overflowed()
    {
        var pipeline = LogitPipeline.CreateBuilder().CheckEveryStage().TopK(2).Temperature(1e-4f).Multinomial(1);
        var error = FluentActions.Invoking(() => Processed(pipeline, new[] { 1e35f, 0f, -1f })).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.Stage).Should().Be((0, "temperature"));
    }

    [Fact]
    public void Checked_mode_names_the_processor_that_emptied_a_row()
    {
        var allowed = LogitPipeline.CreateBuilder().CheckEveryStage().Add(new AllowedTokensProcessor(new[] { 2 })).Multinomial(1);
        using (var batch = Create(new[] { 1f, 2f, NegInf, 3f, 4f, 5f }, 2, 3))
        {
            var tokens = new int[2];
            var empty = FluentActions.Invoking(() => allowed.Sample(batch, SamplingContext.ForRows(2), tokens)).Should().Throw<NoViableTokenException>().Which;
            (empty.Row, empty.Stage).Should().Be((0, "allowed-tokens"));
        }

        var minNew = LogitPipeline.CreateBuilder().CheckEveryStage().Add(new MinNewTokensProcessor(3)).Multinomial(1);
        using (var batch = Create(new[] { NegInf, NegInf, 5f }, 1, 3))
        {
            var context = new SamplingContext(0, new[] { 2 }).SetHistory(new[] { 0 }, 1);
            var empty = FluentActions.Invoking(() => minNew.Sample(batch, context)).Should().Throw<NoViableTokenException>().Which;
            (empty.Row, empty.Stage).Should().Be((0, "min-new-tokens"));
        }

        // A row that is all -inf on entry is not the processor's doing: the selector reports it.
        using (var batch = Create(new[] { NegInf, NegInf, NegInf }, 1, 3))
        {
            var passThrough = LogitPipeline.CreateBuilder().CheckEveryStage().TopK(1).Multinomial(1);
            FluentActions.Invoking(() => passThrough.Sample(batch, new SamplingContext())).Should().Throw<NoViableTokenException>().Which.Stage.Should().Be("sample");
        }
    }

    [Fact]
    public void A_null_context_is_an_argument_error_naming_the_row()
    {
        var pipeline = LogitPipeline.CreateBuilder().TopK(1).Greedy();
        using var batch = Create(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        var error = FluentActions.Invoking(() => pipeline.Process(batch, new SamplingContext[] { new(), null! })).Should().Throw<ArgumentException>().Which;
        error.ParamName.Should().Be("contexts");
        error.Message.Should().Contain("row 1");
        FluentActions.Invoking(() => pipeline.Sample(batch, new SamplingContext[] { null!, new(1) }, new int[2])).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("contexts");
    }

    private List<int[]> SampleMany(LogitPipeline pipeline, float[] data, int rows, int vocab, int steps)
    {
        var result = new List<int[]>();
        var contexts = SamplingContext.ForRows(rows);
        for (int step = 0; step < steps; step++)
        {
            using var batch = Create(data, rows, vocab);
            var tokens = new int[rows];
            pipeline.Sample(batch, contexts, tokens);
            result.Add(tokens);
        }

        return result;
    }

    private sealed class SpyProcessor(bool argmaxInvariant, int writeNaNAt = -1) : ILogitProcessor
    {
        public int Calls { get; private set; }

        public string Name => "spy";

        public bool IsArgmaxInvariant => argmaxInvariant;

        public void Process(LogitBatch logits, IReadOnlyList<SamplingContext> contexts)
        {
            Calls++;
            if (writeNaNAt >= 0)
            {
                // A custom processor that (wrongly) produces NaN: Scatter refuses NaN, so go through the host.
                var values = logits.ToArray();
                values[writeNaNAt] = float.NaN;
                logits.CopyFrom(values);
            }
        }
    }
}

public sealed class CpuPipelineTests : PipelineTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

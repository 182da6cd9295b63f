using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Generation;
using Logits.Pipelines;
using Logits.Tensors;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Models;

/// <summary>The <see cref="ILanguageModel"/> adapter: ragged batches, errors, generation through the library's pipeline.</summary>
public sealed class TransformerLanguageModelTests
{
    private static ReadOnlyMemory<int>[] Contexts(params int[][] rows) => rows.Select(r => new ReadOnlyMemory<int>(r)).ToArray();

    /// <summary>Reference: the last-position logits of one unpadded context through the module's own forward.</summary>
    private static float[] LastLogits(DecoderTransformer model, int[] context)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(context.Select(t => (long)t).ToArray(), new long[] { 1, context.Length });
        return DecoderTransformerTests.Values(model.forward(input)[0, context.Length - 1]);
    }

    [Fact]
    public void Ragged_batch_rows_equal_each_context_run_alone_in_eval_mode()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small(dropout: 0.5), seed: 11);
        var lm = new TransformerLanguageModel(model);
        lm.VocabSize.Should().Be(11);
        var rows = new[] { new[] { 3 }, new[] { 1, 2, 3, 4, 5, 6, 7, 8 }, new[] { 10, 0, 5 } };
        using var destination = lm.CreateLogitBatch(3);
        destination.Should().BeOfType<TorchLogitBatch>();
        model.training.Should().BeTrue();
        lm.NextTokenLogits(Contexts(rows), destination);
        model.training.Should().BeTrue("the adapter restores the module's mode");

        var actual = new float[3 * 11];
        destination.CopyTo(actual);
        model.eval();
        for (int r = 0; r < rows.Length; r++)
        {
            var expected = LastLogits(model, rows[r]);
            for (int v = 0; v < 11; v++)
            {
                actual[(r * 11) + v].Should().BeApproximately(expected[v], 1e-5f, $"row {r}, token {v}");
            }
        }

        // A CPU batch is filled through host memory with the same values; dropout is off, so a second call agrees exactly.
        model.train();
        using var cpu = new CpuLogitBatch(3, 11);
        lm.NextTokenLogits(Contexts(rows), cpu);
        cpu.AsSpan().ToArray().Should().Equal(actual);
    }

    [Fact]
    public void Invalid_contexts_name_the_row()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 12);
        var lm = new TransformerLanguageModel(model);
        using var two = lm.CreateLogitBatch(2);
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { 1 }, Array.Empty<int>()), two))
            .Should().Throw<ArgumentException>().WithMessage("*row 1 is empty*").Which.ParamName.Should().Be("contexts");
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { 1 }, Enumerable.Repeat(1, 9).ToArray()), two))
            .Should().Throw<ArgumentException>().WithMessage("*row 1 has 9 tokens*at most 8*");
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { 1, 2 }, new[] { 4, 11 }), two))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Row 1 holds the id 11 at position 1*").Which.ParamName.Should().Be("contexts");
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { -1 }, new[] { 4 }), two))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Row 0*");
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { 1 }), two))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
        using var wrongVocab = new TorchLogitBatch(2, 12);
        FluentActions.Invoking(() => lm.NextTokenLogits(Contexts(new[] { 1 }, new[] { 2 }), wrongVocab))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
        FluentActions.Invoking(() => new TransformerLanguageModel(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Left_truncation_keeps_the_last_window()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 13);
        var lm = new TransformerLanguageModel(model) { TruncateFromLeft = true };
        var longContext = Enumerable.Range(0, 12).Select(i => i % 11).ToArray();
        using var destination = lm.CreateLogitBatch(2);
        lm.NextTokenLogits(Contexts(longContext, new[] { 4, 11 - 1 }), destination);
        var actual = new float[11];
        destination.CopyRowTo(0, actual);
        model.eval();
        var expected = LastLogits(model, longContext[^8..]);
        for (int v = 0; v < 11; v++)
        {
            actual[v].Should().BeApproximately(expected[v], 1e-5f);
        }
    }

    [Fact]
    public void Greedy_generation_through_the_pipeline_matches_a_hand_written_argmax_loop()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small() with { Width = 32, Heads = 4 }, seed: 14);
        var lm = new TransformerLanguageModel(model);
        var generator = new TokenGenerator(lm, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions { MaxNewTokens = 6 });
        var prompt = new[] { 2, 7 };
        var result = generator.Generate(prompt);
        result.Tokens.Should().HaveCount(6);

        model.eval();
        var history = new List<int>(prompt);
        for (int step = 0; step < 6; step++)
        {
            var logits = LastLogits(model, history.ToArray());
            history.Add(Array.IndexOf(logits, logits.Max()));
        }

        result.Tokens.Should().Equal(history.Skip(2));
        generator.Generate(prompt).Tokens.Should().Equal(result.Tokens);
    }

    [Fact]
    public void Seeded_sampling_through_the_pipeline_is_reproducible_and_stops_at_eos()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 15);
        var lm = new TransformerLanguageModel(model);
        var options = new GenerationOptions { MaxNewTokens = 7 };
        List<int> Sample(ulong seed) =>
            new TokenGenerator(lm, LogitPipeline.CreateBuilder().TopK(8).Temperature(1.5f).Multinomial(seed), options).Generate(new[] { 1 }).Tokens.ToList();

        var first = Sample(3);
        first.Should().HaveCount(7).And.OnlyContain(t => t >= 0 && t < 11);
        Sample(3).Should().Equal(first);

        // The untrained model is nearly uniform, so 7 draws from another seed differ with probability about 1 − 8⁻⁷.
        Sample(4).Should().NotEqual(first);

        // An EOS id ends generation before the budget and is not yielded.
        int eos = first[2];
        var withEos = new TokenGenerator(lm, LogitPipeline.CreateBuilder().TopK(8).Temperature(1.5f).Multinomial(3), new GenerationOptions { MaxNewTokens = 7, EosTokenIds = new[] { eos } });
        var stopped = withEos.Generate(new[] { 1 });
        stopped.StopReason.Should().Be(StopReason.EndOfSequence);
        stopped.Tokens.Should().Equal(first.TakeWhile(t => t != eos));
    }

    [Fact]
    public void Next_token_logits_leave_no_live_tensors()
    {
        using var model = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 16);
        var lm = new TransformerLanguageModel(model);
        using var destination = lm.CreateLogitBatch(2);
        using var cpu = new CpuLogitBatch(2, 11);
        var contexts = Contexts(new[] { 1, 2, 3 }, new[] { 4 });

        void RunAll()
        {
            lm.NextTokenLogits(contexts, destination);
            lm.NextTokenLogits(contexts, cpu);
            Assert.Throws<ArgumentOutOfRangeException>(() => lm.NextTokenLogits(Contexts(new[] { 1 }, new[] { 99 }), destination));
            new TokenGenerator(lm, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions { MaxNewTokens = 3 }).Generate(new[] { 5 });
        }

        RunAll();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            RunAll();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
    }
}

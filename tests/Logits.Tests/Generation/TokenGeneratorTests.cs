using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FluentAssertions;
using Logits.Generation;
using Logits.Pipelines;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Generation;

public sealed class TokenGeneratorTests
{
    private static LogitPipeline Greedy() => LogitPipeline.CreateBuilder().Greedy();

    private static async Task<List<int>> Collect(IAsyncEnumerable<int> tokens, CancellationToken cancellationToken = default)
    {
        var list = new List<int>();
        await foreach (int token in tokens.WithCancellation(cancellationToken))
        {
            list.Add(token);
        }

        return list;
    }

    [Fact]
    public async Task Stops_after_max_new_tokens()
    {
        var generator = new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { MaxNewTokens = 4 });
        (await Collect(generator.GenerateAsync(new[] { 2 }))).Should().Equal(3, 4, 5, 6);
        generator.LastStopReason.Should().Be(StopReason.MaxNewTokens);
    }

    [Fact]
    public async Task Stops_on_eos_without_yielding_it()
    {
        var generator = new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { MaxNewTokens = 50, EosTokenIds = new[] { 7 } });
        (await Collect(generator.GenerateAsync(new[] { 2 }))).Should().Equal(3, 4, 5, 6);
        generator.LastStopReason.Should().Be(StopReason.EndOfSequence);
    }

    [Fact]
    public void Stops_on_a_stop_sequence_without_yielding_it_and_releases_held_tokens_that_did_not_match()
    {
        var options = new GenerationOptions { MaxNewTokens = 50, StopSequences = new[] { new[] { 5, 6 }, new[] { 3, 9 } } };
        var result = new TokenGenerator(BigramModel.Chain(10), Greedy(), options).Generate(new[] { 2 });

        // 3 is held back (it could start [3, 9]) and released when 4 follows; [5, 6] ends generation.
        result.Tokens.Should().Equal(3, 4);
        result.StopReason.Should().Be(StopReason.StopSequence);
    }

    [Fact]
    public async Task Held_back_tokens_are_released_in_order_while_streaming()
    {
        var options = new GenerationOptions { MaxNewTokens = 6, StopSequences = new[] { new[] { 3, 4, 9 } } };
        var generator = new TokenGenerator(BigramModel.Chain(10), Greedy(), options);
        (await Collect(generator.GenerateAsync(new[] { 2 }))).Should().Equal(3, 4, 5, 6, 7, 8);
        generator.LastStopReason.Should().Be(StopReason.MaxNewTokens);
    }

    [Fact]
    public async Task Honours_cancellation_between_tokens()
    {
        var model = BigramModel.Chain(10);
        var generator = new TokenGenerator(model, Greedy(), new GenerationOptions { MaxNewTokens = 1000 });
        using var cancellation = new CancellationTokenSource();
        var seen = new List<int>();
        Func<Task> run = async () =>
        {
            await foreach (int token in generator.GenerateAsync(new[] { 0 }, cancellation.Token))
            {
                seen.Add(token);
                if (seen.Count == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        };
        await run.Should().ThrowAsync<OperationCanceledException>();
        seen.Should().Equal(1, 2, 3);
        model.Calls.Should().Be(3, "no model call after cancellation");
    }

    [Fact]
    public void Seeded_sampling_reproduces_for_the_same_seed_and_differs_across_seeds()
    {
        var uniform = new float[8][];
        for (int t = 0; t < 8; t++)
        {
            uniform[t] = new float[8];
        }

        var model = new BigramModel(uniform);
        var options = new GenerationOptions { MaxNewTokens = 30 };
        var a = new TokenGenerator(model, LogitPipeline.CreateBuilder().Temperature(1f).Multinomial(5), options);
        var first = a.Generate(new[] { 0 }).Tokens;
        a.Generate(new[] { 0 }).Tokens.Should().Equal(first, "each generation resets the pipeline");
        var b = new TokenGenerator(model, LogitPipeline.CreateBuilder().Temperature(1f).Multinomial(6), options);
        b.Generate(new[] { 0 }).Tokens.Should().NotEqual(first);
    }

    [Fact]
    public void Invalid_prompts_and_options_are_rejected()
    {
        var generator = new TokenGenerator(BigramModel.Chain(5), Greedy());
        FluentActions.Invoking(() => generator.Generate(Array.Empty<int>())).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("prompt");
        FluentActions.Invoking(() => generator.Generate(new[] { 5 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("prompt");
        FluentActions.Invoking(() => new GenerationOptions { MaxNewTokens = 0 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MaxNewTokens");
        FluentActions.Invoking(() => new GenerationOptions { StopSequences = new[] { Array.Empty<int>() } }).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new GenerationOptions { EosTokenIds = new[] { -1 } }).Should().Throw<ArgumentException>();
    }

    // Issue 14, defect 2: the history was sized by MaxNewTokens (overflow at int.MaxValue, OOM just below, 1 GB for
    // 250 000 000), even for a run that stops after a few tokens.
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 5)]
    [InlineData(250_000_000)]
    public void A_huge_token_budget_allocates_with_the_output_not_the_limit(int maxNewTokens)
    {
        var generator = new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { MaxNewTokens = maxNewTokens, EosTokenIds = new[] { 7 } });
        generator.Generate(new[] { 2 }); // warm-up: JIT and the pipeline's buffers
        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = generator.Generate(new[] { 2 });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        result.Tokens.Should().Equal(3, 4, 5, 6);
        result.StopReason.Should().Be(StopReason.EndOfSequence);
        allocated.Should().BeLessThan(64 * 1024, "a four-token run needs a small history whatever the budget");
    }

    [Fact]
    public void The_history_grows_past_its_first_capacity_with_stop_sequences_held_across_the_growth()
    {
        // 1000 tokens (several doublings of the history); [3, 9] never matches, so each 3 is held and released.
        var options = new GenerationOptions { MaxNewTokens = 1000, StopSequences = new[] { new[] { 3, 9 } } };
        var result = new TokenGenerator(BigramModel.Chain(10), Greedy(), options).Generate(new[] { 2 });
        result.Tokens.Should().HaveCount(1000);
        for (int i = 0; i < 1000; i++)
        {
            result.Tokens[i].Should().Be((3 + i) % 10);
        }

        result.StopReason.Should().Be(StopReason.MaxNewTokens);
    }

    /// <summary>A model whose batches are wider than its declared vocabulary (issue 14, defect 3).</summary>
    private sealed class WideBatchModel : ILanguageModel
    {
        public int VocabSize => 10;

        public LogitBatch CreateLogitBatch(int rows) => new CpuLogitBatch(rows, 20);

        public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
        {
            var values = new float[destination.Rows * destination.Vocab];
            for (int r = 0; r < destination.Rows; r++)
            {
                values[(r * destination.Vocab) + 15] = 10; // an id the model does not have
            }

            destination.CopyFrom(values);
        }
    }

    [Fact]
    public void A_model_batch_whose_vocabulary_differs_from_VocabSize_throws_instead_of_yielding_foreign_ids()
    {
        var generator = new TokenGenerator(new WideBatchModel(), Greedy(), new GenerationOptions { MaxNewTokens = 3 });
        FluentActions.Invoking(() => generator.Generate(new[] { 1 })).Should().Throw<InvalidOperationException>()
            .WithMessage("*WideBatchModel*[1, 20]*VocabSize is 10*");
    }

    // Issue 14, defect 6: an EOS id or stop sequence outside the vocabulary was accepted and never matched.
    [Fact]
    public void Eos_ids_and_stop_sequences_outside_the_vocabulary_are_rejected_naming_the_option()
    {
        FluentActions.Invoking(() => new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { EosTokenIds = new[] { 1000 } }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "options" && e.Message.Contains("EosTokenIds holds the id 1000", StringComparison.Ordinal));
        FluentActions.Invoking(() => new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { StopSequences = new[] { new[] { 1, 2 }, new[] { 3, 10 } } }))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "options" && e.Message.Contains("StopSequences[1] holds the id 10", StringComparison.Ordinal));
        FluentActions.Invoking(() => new TokenGenerator(BigramModel.Chain(10), Greedy(), new GenerationOptions { EosTokenIds = new[] { 9 }, StopSequences = new[] { new[] { 0, 9 } } }))
            .Should().NotThrow();
    }
}

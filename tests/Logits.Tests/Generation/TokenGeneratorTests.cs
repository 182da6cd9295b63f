using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FluentAssertions;
using Logits.Generation;
using Logits.Pipelines;
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
}

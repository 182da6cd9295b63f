using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using FluentAssertions;
using Logits.OnnxRuntimeGenAI.Chat;
using Logits.OnnxRuntimeGenAI.Onnx;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;
using Xunit;

namespace Logits.OnnxRuntimeGenAI.Tests.Chat;

public class LogitsSamplingChatClientTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "hello world")];

    private static OnnxRuntimeGenAIChatClient RuntimeClient() => new OnnxRuntimeGenAIChatClient(SyntheticOnnxModels.Small.Model, ownsModel: false);

    [Fact]
    public async Task StreamedTextIsMadeOnlyOfTheTokensALogitsPipelineCanPick()
    {
        int[] allowed = ['q', 'x'];
        var created = new List<LogitPipeline>();
        using var client = RuntimeClient().AsBuilder()
            .UseLogitsSampling(o =>
            {
                o.PipelineFactory = _ => LogitPipeline.CreateBuilder().Add(new AllowedTokensProcessor(allowed)).Multinomial(5);
                o.OnPipelineCreated = created.Add;
            })
            .Build();

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.GetStreamingResponseAsync(Hello, new ChatOptions { MaxOutputTokens = 20 }))
        {
            text.Append(update.Text);
            finish ??= update.FinishReason;
        }

        created.Should().HaveCount(1);
        text.ToString().Should().HaveLength(20).And.MatchRegex("^[qx]+$");
        text.ToString().Distinct().Should().HaveCount(2, "a seeded draw between two ids over 20 tokens picks both");
        finish.Should().Be(ChatFinishReason.Length);
    }

    [Fact]
    public async Task GreedyRepliesEqualTheRuntimeChatClientsOwnGreedyReplies()
    {
        // The synthetic model's genai_config.json asks for greedy search, so the runtime's client answers greedily.
        using var runtime = RuntimeClient();
        using var logits = RuntimeClient().AsBuilder().UseLogitsSampling(o => o.PipelineFactory = _ => LogitPipeline.CreateBuilder().Greedy()).Build();
        long longest = 0;
        foreach (string question in new[] { "hello world", "abc", "what is the answer" })
        {
            ChatMessage[] messages = [new(ChatRole.User, question)];
            var options = new ChatOptions { MaxOutputTokens = 24 };
            var expected = await runtime.GetResponseAsync(messages, options);
            var actual = await logits.GetResponseAsync(messages, options);
            actual.Text.Should().Be(expected.Text, $"question '{question}'");
            actual.Usage!.OutputTokenCount.Should().Be(expected.Usage!.OutputTokenCount);
            actual.Usage.InputTokenCount.Should().Be(expected.Usage.InputTokenCount, "both format the prompt with the model's chat template");
            longest = Math.Max(longest, actual.Usage.OutputTokenCount ?? 0);
        }

        longest.Should().BeGreaterThan(3, "the comparison must cover real replies, not an immediate end of turn");
    }

    [Fact]
    public async Task ChatOptionsAreMappedToALogitsPipelineWithTheSeed()
    {
        var created = new List<LogitPipeline>();
        using var client = RuntimeClient().AsBuilder().UseLogitsSampling(o => o.OnPipelineCreated = created.Add).Build();
        var options = new ChatOptions { MaxOutputTokens = 16, Temperature = 0.8f, TopK = 20, TopP = 0.9f, Seed = 11 };
        var first = await client.GetResponseAsync(Hello, options);
        var second = await client.GetResponseAsync(Hello, options);
        second.Text.Should().Be(first.Text, "the same seed draws the same tokens");
        created.Should().HaveCount(2);
        created[0].Processors.Select(p => p.GetType().Name).Should().Contain(["TemperatureProcessor", "TopKProcessor", "TopPProcessor"]);
    }

    [Fact]
    public async Task StopSequencesEndTheReplyOnTheDecodedText()
    {
        int[] allowed = ['a', 'b', 'c'];
        using var client = RuntimeClient().AsBuilder()
            .UseLogitsSampling(o => o.PipelineFactory = _ => LogitPipeline.CreateBuilder().Add(new AllowedTokensProcessor(allowed)).Multinomial(3))
            .Build();
        var full = (await client.GetResponseAsync(Hello, new ChatOptions { MaxOutputTokens = 40 })).Text;
        int cut = full.IndexOf("cab", StringComparison.Ordinal);
        cut.Should().BeGreaterThan(0, $"the seeded reply '{full}' holds the stop text somewhere after its start (else pick another stop)");

        var stopped = await client.GetResponseAsync(Hello, new ChatOptions { MaxOutputTokens = 40, StopSequences = ["cab"] });
        stopped.Text.Should().Be(full[..cut]);
        stopped.FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [Fact]
    public async Task AnInnerClientWithoutAnOnnxRuntimeGenAIModelIsRefused()
    {
        using var client = new EmptyClient().AsBuilder().UseLogitsSampling().Build();
        var act = async () => await client.GetResponseAsync(Hello);
        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*OnnxRuntimeGenAIChatClient*");
        client.GetService<LogitsChatClientOptions>().Should().NotBeNull();
    }

    [Fact]
    public void TheEndOfTurnTokenIsAnEosOfTheSyntheticModel()
    {
        using var tokenizer = new Tokenizer(SyntheticOnnxModels.Small.Model);
        tokenizer.GetEosTokenIds().ToArray().Should().Contain([SyntheticOnnxModel.EndOfTextId, SyntheticOnnxModel.EndOfTurnId]);
    }

    private sealed class EmptyClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, System.Threading.CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, System.Threading.CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

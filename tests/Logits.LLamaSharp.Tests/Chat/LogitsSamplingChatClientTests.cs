using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using FluentAssertions;
using LLama;
using LLama.Abstractions;
using LLama.Common;
using Logits.LLamaSharp.Chat;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Microsoft.Extensions.AI;
using Xunit;

namespace Logits.LLamaSharp.Tests.Chat;

public class LogitsSamplingChatClientTests
{
    private static readonly IReadOnlyList<string> Tokens = SpmVocabulary.CreateSynthetic(512).Tokens;

    private static int Id(string piece) => Tokens.ToList().IndexOf(piece.Replace(" ", SpmVocabulary.SpaceMarker, StringComparison.Ordinal));

    private static IChatClient ExecutorClient()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        return new StatelessExecutor(weights, SyntheticModels.ContextParams(path)).AsChatClient();
    }

    [Fact]
    public async Task StreamedTextIsMadeOnlyOfTheTokensALogitsPipelineCanPick()
    {
        int[] allowed = { Id(" q"), Id("x") };
        allowed.Should().OnlyContain(id => id >= SpmVocabulary.FirstPieceId);
        var created = new List<LogitsSamplingPipeline>();
        using var client = ExecutorClient().AsBuilder()
            .UseLogitsSampling(o =>
            {
                o.PipelineFactory = _ => LogitPipeline.CreateBuilder().Add(new AllowedTokensProcessor(allowed)).Multinomial(5);
                o.OnPipelineCreated = created.Add;
            })
            .Build();

        var text = new StringBuilder();
        int updates = 0;
        await foreach (var update in client.GetStreamingResponseAsync(new[] { new ChatMessage(ChatRole.User, "hello world") }, new ChatOptions { MaxOutputTokens = 20 }))
        {
            text.Append(update.Text);
            updates++;
        }

        updates.Should().BeGreaterThan(1, "the reply streams");
        text.ToString().Should().MatchRegex(new Regex("^( q|x)+$"), "every token was chosen by the Logits pipeline from { ' q', 'x' }");
        created.Should().ContainSingle();
        var sampled = created[0].History.ToArray();
        sampled.Should().HaveCount(20).And.OnlyContain(id => allowed.Contains(id));

        // The same client without Logits writes the model's own successor pieces.
        var plain = await ExecutorClient().GetResponseAsync(new[] { new ChatMessage(ChatRole.User, "hello world") }, new ChatOptions { MaxOutputTokens = 20, Temperature = 0 });
        plain.Text.Should().NotMatchRegex(new Regex("^( q|x)+$"));
    }

    [Fact]
    public async Task ChatOptionsAreHonouredThroughTheDefaultMapping()
    {
        int forced = Id("ab");
        forced.Should().BePositive();
        var created = new List<LogitsSamplingPipeline>();
        using var client = ExecutorClient().AsBuilder().UseLogitsSampling(o => o.OnPipelineCreated = created.Add).Build();
        var options = new ChatOptions
        {
            MaxOutputTokens = 8,
            Temperature = 0,
            AdditionalProperties = new AdditionalPropertiesDictionary { ["logit_bias"] = new Dictionary<int, float> { [forced] = 100f } },
        };

        var response = await client.GetResponseAsync(new[] { new ChatMessage(ChatRole.User, "abc") }, options);
        created.Should().ContainSingle();
        created[0].History.ToArray().Should().Equal(Enumerable.Repeat(forced, 8), "logit_bias +100 on one id with T = 0");
        response.Text.Trim().Should().Be(string.Concat(Enumerable.Repeat("ab", 8)));
        options.RawRepresentationFactory.Should().BeNull("the caller's options are not changed");
    }

    [Fact]
    public async Task AnInferenceParamsFromTheCallersFactoryIsKeptExceptForItsSamplingPipelineAndStopSequencesBecomeAntiPrompts()
    {
        var given = new InferenceParams { AntiPrompts = new[] { "STOP" } };
        InferenceParams? seen = null;
        var spy = new SpyClient(options => seen = options?.RawRepresentationFactory?.Invoke(null!) as InferenceParams);
        using var client = spy.AsBuilder().UseLogitsSampling().Build();
        await client.GetResponseAsync(new[] { new ChatMessage(ChatRole.User, "x") }, new ChatOptions { RawRepresentationFactory = _ => given, StopSequences = new[] { "END" } });

        seen.Should().NotBeNull();
        seen!.SamplingPipeline.Should().BeOfType<LogitsSamplingPipeline>();
        seen.AntiPrompts.Should().Equal("STOP", "END");
        given.SamplingPipeline.Should().NotBeOfType<LogitsSamplingPipeline>("the caller's object is copied");
    }

    private sealed class SpyClient(Action<ChatOptions?> onRequest) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, System.Threading.CancellationToken cancellationToken = default)
        {
            onRequest(options);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, System.Threading.CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

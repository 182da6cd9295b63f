using System.Runtime.CompilerServices;
using LLama.Common;
using Logits.Integration;
using Logits.LLamaSharp.Sampling;
using Microsoft.Extensions.AI;

namespace Logits.LLamaSharp.Chat;

/// <summary>
/// A delegating <see cref="IChatClient"/> that makes an inner LLamaSharp executor chat client sample every request
/// with Logits: the request's <see cref="ChatOptions"/> become a Logits pipeline (through
/// <see cref="ChatOptionsMapping"/>, or the factory of <see cref="LogitsChatClientOptions"/>).
/// </summary>
/// <remarks>
/// <para><b>The seam.</b> LLamaSharp's executor chat client (<c>executor.AsChatClient()</c>) asks
/// <see cref="ChatOptions.RawRepresentationFactory"/> for its <c>InferenceParams</c> and keeps a sampling pipeline
/// found there unless it is its own <c>DefaultSamplingPipeline</c>. This client hands it an <c>InferenceParams</c>
/// whose pipeline is a <see cref="LogitsSamplingPipeline"/>: from then on LLamaSharp only decodes, and Logits chooses
/// every token. An <c>InferenceParams</c> the caller's own factory returns is copied, never changed.</para>
/// <para><b>Where Logits takes over.</b> Sampling options (temperature, top-k, top-p, penalties, seed and the
/// llama.cpp-server additional properties <c>ChatOptionsMapping</c> reads) are applied by Logits.
/// <see cref="ChatOptions.MaxOutputTokens"/> stays with LLamaSharp (its <c>MaxTokens</c>), and
/// <see cref="ChatOptions.StopSequences"/> are added to its text anti-prompts, since LLamaSharp 0.30.0 does not map
/// them. The chat client builds the prompt text itself, so the pipeline sees the reply's tokens only: penalties
/// cover the reply, not the conversation.</para>
/// </remarks>
public sealed class LogitsSamplingChatClient : DelegatingChatClient
{
    private readonly LogitsChatClientOptions _options;

    /// <summary>Creates the client.</summary>
    /// <param name="innerClient">A LLamaSharp executor chat client (or a pipeline that ends in one).</param>
    /// <param name="options">How pipelines are built; defaults map <see cref="ChatOptions"/> in llama.cpp's order.</param>
    public LogitsSamplingChatClient(IChatClient innerClient, LogitsChatClientOptions? options = null)
        : base(innerClient)
    {
        _options = options ?? new LogitsChatClientOptions();
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (withLogits, sampling) = Prepare(options);
        using (sampling)
        {
            return await base.GetResponseAsync(messages, withLogits, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (withLogits, sampling) = Prepare(options);
        using (sampling)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, withLogits, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(LogitsChatClientOptions) ? _options : base.GetService(serviceType, serviceKey);
    }

    private (ChatOptions Options, LogitsSamplingPipeline Sampling) Prepare(ChatOptions? options)
    {
        var pipeline = _options.PipelineFactory is { } factory
            ? factory(options) ?? throw new InvalidOperationException("The pipeline factory returned null.")
            : options.ToPipeline(_options.Order);
        var sampling = new LogitsSamplingPipeline(pipeline);
        _options.OnPipelineCreated?.Invoke(sampling);

        var withLogits = options?.Clone() ?? new ChatOptions();
        var callerFactory = withLogits.RawRepresentationFactory;
        var stops = options?.StopSequences;
        withLogits.RawRepresentationFactory = client =>
        {
            var inference = callerFactory?.Invoke(client) is InferenceParams given ? given with { } : new InferenceParams();
            inference.SamplingPipeline = sampling;
            if (stops is { Count: > 0 })
            {
                var antiPrompts = new List<string>(inference.AntiPrompts);
                antiPrompts.AddRange(stops);
                inference.AntiPrompts = antiPrompts;
            }

            return inference;
        };

        return (withLogits, sampling);
    }
}

using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Logits.Generation;
using Logits.Integration;
using Logits.OnnxRuntimeGenAI.Models;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Logits.OnnxRuntimeGenAI.Chat;

/// <summary>
/// A delegating <see cref="IChatClient"/> that answers every request of an inner ONNX Runtime GenAI chat client with
/// Logits choosing the tokens: the request's <see cref="ChatOptions"/> become a Logits pipeline (through
/// <see cref="ChatOptionsMapping"/>, or the factory of <see cref="LogitsChatClientOptions"/>) that runs over the inner
/// client's model through an <see cref="OnnxGenAILanguageModel"/>.
/// </summary>
/// <remarks>
/// <para><b>The seam.</b> <c>OnnxRuntimeGenAIChatClient</c> builds its own generator and maps
/// <see cref="ChatOptions"/> to the runtime's search options (<c>temperature</c>, <c>top_k</c>, <c>top_p</c>,
/// <c>random_seed</c>, <see cref="ChatOptions.PresencePenalty"/> as the multiplicative <c>repetition_penalty</c>, every
/// additional property as a search option, JSON response formats as guidance); nothing in it lets another sampler
/// choose the tokens. This client therefore takes the inner client's <c>Model</c> and <c>Tokenizer</c> (its
/// <c>GetService</c>) and generates itself; the inner client only supplies them.</para>
/// <para><b>Where Logits takes over.</b> Every sampling option: temperature, top-k, top-p, the additive frequency and
/// presence penalties (never the runtime's multiplicative reading of <see cref="ChatOptions.PresencePenalty"/>), the
/// seed, and the llama.cpp-server additional properties the mapping reads; <see cref="ChatOptions.MaxOutputTokens"/>
/// (default 256), <see cref="ChatOptions.StopSequences"/> (matched on the decoded text) and the model's EOS ids. The
/// runtime's search options, its JSON-schema guidance and its conversation caching
/// (<see cref="ChatOptions.ConversationId"/>) are not used: constrain the output with Logits' constraint processors
/// through <see cref="LogitsChatClientOptions.PipelineFactory"/>. The pipeline sees the prompt and the reply, so
/// penalties cover the conversation as the runtime's do.</para>
/// </remarks>
public sealed class LogitsSamplingChatClient : DelegatingChatClient
{
    private readonly LogitsChatClientOptions _options;

    /// <summary>Creates the client.</summary>
    /// <param name="innerClient">An <c>OnnxRuntimeGenAIChatClient</c> (or a pipeline that ends in one).</param>
    /// <param name="options">How prompts and pipelines are built; defaults map <see cref="ChatOptions"/> in Hugging Face's order.</param>
    public LogitsSamplingChatClient(IChatClient innerClient, LogitsChatClientOptions? options = null)
        : base(innerClient)
    {
        _options = options ?? new LogitsChatClientOptions();
    }

    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The inner client exposes no ONNX Runtime GenAI <c>Model</c> or <c>Tokenizer</c>.</exception>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = InnerClient.GetService<Model>()
            ?? throw new InvalidOperationException("The inner chat client exposes no ONNX Runtime GenAI Model (GetService); wrap an OnnxRuntimeGenAIChatClient.");
        var tokenizer = InnerClient.GetService<Tokenizer>()
            ?? throw new InvalidOperationException("The inner chat client exposes no ONNX Runtime GenAI Tokenizer (GetService); wrap an OnnxRuntimeGenAIChatClient.");

        string prompt = _options.PromptFormatter is { } formatter ? formatter(messages, options) : FormatPrompt(tokenizer, messages, options);
        int[] promptIds;
        using (var encoded = tokenizer.Encode(prompt))
        {
            promptIds = encoded[0].ToArray();
        }

        var pipeline = _options.PipelineFactory is { } factory
            ? factory(options) ?? throw new InvalidOperationException("The pipeline factory returned null.")
            : options.ToPipeline(_options.Order);
        _options.OnPipelineCreated?.Invoke(pipeline);
        var eos = tokenizer.GetEosTokenIds().ToArray();
        var generation = options.ToGenerationOptions(text => Encode(tokenizer, text), eos);
        var stops = new List<string>(_options.StopSequences);
        if (options?.StopSequences is { } requested)
        {
            stops.AddRange(requested);
        }

        stops.RemoveAll(string.IsNullOrEmpty);
        string messageId = Guid.NewGuid().ToString("N");
        string responseId = Guid.NewGuid().ToString("N");
        int outputTokens = 0;
        bool stoppedByText = false;

        using var languageModel = new OnnxGenAILanguageModel(model);
        var generator = new TokenGenerator(languageModel, pipeline, generation);
        using var stream = tokenizer.CreateStream();
        var text = new StringBuilder();
        int emitted = 0;
        await foreach (int token in generator.GenerateAsync(promptIds, cancellationToken).ConfigureAwait(false))
        {
            outputTokens++;
            text.Append(stream.Decode(token));
            int end = text.Length;
            foreach (string stop in stops)
            {
                int at = text.ToString().IndexOf(stop, Math.Max(0, emitted - stop.Length), StringComparison.Ordinal);
                if (at >= 0 && at < end)
                {
                    end = at;
                    stoppedByText = true;
                }
            }

            // Hold back a tail that could still become a stop sequence.
            int safe = stoppedByText ? end : Math.Max(emitted, end - LongestPrefixOfAnyStop(text, stops));
            if (safe > emitted)
            {
                yield return Update(text.ToString(emitted, safe - emitted), messageId, responseId);
                emitted = safe;
            }

            if (stoppedByText)
            {
                break;
            }
        }

        if (!stoppedByText && text.Length > emitted)
        {
            yield return Update(text.ToString(emitted, text.Length - emitted), messageId, responseId);
        }

        yield return new ChatResponseUpdate
        {
            Contents = [new UsageContent(new UsageDetails
            {
                InputTokenCount = promptIds.Length,
                OutputTokenCount = outputTokens,
                TotalTokenCount = promptIds.Length + outputTokens,
            })],
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = !stoppedByText && generator.LastStopReason == StopReason.MaxNewTokens ? ChatFinishReason.Length : ChatFinishReason.Stop,
            MessageId = messageId,
            ResponseId = responseId,
            Role = ChatRole.Assistant,
        };
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType == typeof(LogitsChatClientOptions) ? _options : base.GetService(serviceType, serviceKey);
    }

    private static ChatResponseUpdate Update(string text, string messageId, string responseId) => new(ChatRole.Assistant, text)
    {
        CreatedAt = DateTimeOffset.UtcNow,
        MessageId = messageId,
        ResponseId = responseId,
    };

    private static int[] Encode(Tokenizer tokenizer, string text)
    {
        using var encoded = tokenizer.Encode(text);
        return encoded[0].ToArray();
    }

    private static int LongestPrefixOfAnyStop(StringBuilder text, List<string> stops)
    {
        int longest = 0;
        foreach (string stop in stops)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                bool match = true;
                for (int i = 0; i < length && match; i++)
                {
                    match = text[text.Length - length + i] == stop[i];
                }

                if (match)
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }

    private static string FormatPrompt(Tokenizer tokenizer, IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        using var buffer = new System.IO.MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            if (options?.Instructions is { } instructions)
            {
                WriteMessage(json, ChatRole.System.Value, instructions);
            }

            foreach (var message in messages)
            {
                if (message.Text is { } content)
                {
                    WriteMessage(json, message.Role.Value, content);
                }
            }

            json.WriteEndArray();
        }

        return tokenizer.ApplyChatTemplate(null, Encoding.UTF8.GetString(buffer.ToArray()), null, true);
    }

    private static void WriteMessage(Utf8JsonWriter json, string role, string content)
    {
        json.WriteStartObject();
        json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
    }
}

using Microsoft.Extensions.AI;

namespace Logits.OnnxRuntimeGenAI.Chat;

/// <summary>Adds Logits sampling to a <see cref="ChatClientBuilder"/> over an ONNX Runtime GenAI chat client.</summary>
public static class LogitsChatClientBuilderExtensions
{
    /// <summary>
    /// Makes every request sample with Logits:
    /// <c>new OnnxRuntimeGenAIChatClient(model).AsBuilder().UseLogitsSampling().Build()</c>.
    /// </summary>
    /// <param name="builder">The builder; the client it wraps must expose an ONNX Runtime GenAI <c>Model</c> and
    /// <c>Tokenizer</c> through <c>GetService</c>, as <c>OnnxRuntimeGenAIChatClient</c> does.</param>
    /// <param name="configure">Optional: set a pipeline factory, the temperature order, a prompt formatter or stop text.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseLogitsSampling(this ChatClientBuilder builder, Action<LogitsChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new LogitsChatClientOptions();
        configure?.Invoke(options);
        return builder.Use(inner => new LogitsSamplingChatClient(inner, options));
    }
}

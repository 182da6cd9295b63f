using Microsoft.Extensions.AI;

namespace Logits.LLamaSharp.Chat;

/// <summary>Adds Logits sampling to a <see cref="ChatClientBuilder"/> over a LLamaSharp executor chat client.</summary>
public static class LogitsChatClientBuilderExtensions
{
    /// <summary>
    /// Makes every request sample with Logits: <c>executor.AsChatClient().AsBuilder().UseLogitsSampling().Build()</c>.
    /// </summary>
    /// <param name="builder">The builder; the client it wraps must be a LLamaSharp executor chat client.</param>
    /// <param name="configure">Optional: set a pipeline factory or the temperature order.</param>
    /// <returns>The builder.</returns>
    public static ChatClientBuilder UseLogitsSampling(this ChatClientBuilder builder, Action<LogitsChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new LogitsChatClientOptions();
        configure?.Invoke(options);
        return builder.Use(inner => new LogitsSamplingChatClient(inner, options));
    }
}

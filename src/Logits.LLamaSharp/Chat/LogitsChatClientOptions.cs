using Logits.Integration;
using Logits.Pipelines;
using Microsoft.Extensions.AI;

namespace Logits.LLamaSharp.Chat;

/// <summary>How <see cref="LogitsSamplingChatClient"/> builds the Logits pipeline of each request.</summary>
public sealed class LogitsChatClientOptions
{
    /// <summary>
    /// Builds the pipeline of one request from its <see cref="ChatOptions"/> (null when the caller gave none). Default:
    /// <see cref="ChatOptionsMapping.ToPipeline(ChatOptions?, SamplingOrder)"/> with <see cref="Order"/>. A new pipeline
    /// is needed per request (requests may run concurrently and stateful steps are per generation).
    /// </summary>
    public Func<ChatOptions?, LogitPipeline>? PipelineFactory { get; set; }

    /// <summary>Where temperature goes in the default mapping (default: last, as llama.cpp).</summary>
    public SamplingOrder Order { get; set; } = SamplingOrder.LlamaCpp;

    /// <summary>Called with each request's sampling pipeline before generation starts (for logging or inspection).</summary>
    public Action<Sampling.LogitsSamplingPipeline>? OnPipelineCreated { get; set; }
}

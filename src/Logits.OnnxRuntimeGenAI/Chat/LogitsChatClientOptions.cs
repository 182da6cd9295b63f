using Logits.Integration;
using Logits.Pipelines;
using Microsoft.Extensions.AI;

namespace Logits.OnnxRuntimeGenAI.Chat;

/// <summary>How <see cref="LogitsSamplingChatClient"/> builds the prompt and the Logits pipeline of each request.</summary>
public sealed class LogitsChatClientOptions
{
    /// <summary>
    /// Builds the pipeline of one request from its <see cref="ChatOptions"/> (null when the caller gave none). Default:
    /// <see cref="ChatOptionsMapping.ToPipeline(ChatOptions?, SamplingOrder)"/> with <see cref="Order"/>. A new pipeline
    /// is needed per request (requests may run concurrently and stateful steps are per generation).
    /// </summary>
    public Func<ChatOptions?, LogitPipeline>? PipelineFactory { get; set; }

    /// <summary>Where temperature goes in the default mapping (default: first, as ONNX Runtime GenAI's own sampler
    /// and Hugging Face apply it before top-k and top-p).</summary>
    public SamplingOrder Order { get; set; } = SamplingOrder.HuggingFace;

    /// <summary>
    /// Turns the conversation into the prompt text. Default: the messages (with <see cref="ChatOptions.Instructions"/>
    /// as a leading system message) as a JSON array of <c>{"role", "content"}</c> objects through the model's chat
    /// template (<c>Tokenizer.ApplyChatTemplate</c>), as <c>OnnxRuntimeGenAIChatClient</c> does by default. The inner
    /// client's own <c>PromptFormatter</c> is not reachable from outside it: set the same function here.
    /// </summary>
    public Func<IEnumerable<ChatMessage>, ChatOptions?, string>? PromptFormatter { get; set; }

    /// <summary>Text that ends a reply besides the request's <see cref="ChatOptions.StopSequences"/> and the model's
    /// EOS ids (the counterpart of <c>OnnxRuntimeGenAIChatClientOptions.StopSequences</c>).</summary>
    public IList<string> StopSequences { get; } = new List<string>();

    /// <summary>Called with each request's pipeline before generation starts (for logging or inspection).</summary>
    public Action<LogitPipeline>? OnPipelineCreated { get; set; }
}

namespace Logits.Processing.Penalties;

/// <summary>Which part of the history a penalty reads (docs/algorithms/penalties.md#history-scope-and-window).</summary>
public enum PenaltyScope
{
    /// <summary>The prompt followed by the generated tokens (HF and vLLM repetition penalty, HF no-repeat n-gram).</summary>
    PromptAndOutput,

    /// <summary>The generated tokens only (OpenAI/vLLM frequency and presence penalties).</summary>
    OutputOnly,
}

namespace Logits.TorchSharp.Rectification;

/// <summary>How the layers of a <see cref="CopilotDecoder"/> combine self-attention and cross-attention to the Pilot's memory.</summary>
/// <remarks>Zou et al., arXiv 2505.16270, §3: the Copilot is a transformer decoder whose every layer attends to the
/// Pilot's input representation and hidden states, which is <see cref="CrossAttentionInEveryLayer"/>.</remarks>
public enum CopilotLayerLayout
{
    /// <summary>Every layer is causal self-attention, then cross-attention to the memory, then the feed-forward block, each
    /// pre-norm with a residual connection (the paper's layout; the default).</summary>
    CrossAttentionInEveryLayer = 0,

    /// <summary>Odd layers (1, 3, …) are causal self-attention, even layers (2, 4, …) cross-attention, each followed by the
    /// feed-forward block: half the attention cost per layer, and a layer's input reaches the memory only every other layer.</summary>
    Alternating = 1,
}

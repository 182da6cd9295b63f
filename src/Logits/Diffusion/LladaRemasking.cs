namespace Logits.Diffusion;

/// <summary>How LLaDA ranks the masked positions of a block for unmasking (docs/algorithms/discrete-diffusion.md#llada-low-confidence-remasking).</summary>
public enum LladaRemasking
{
    /// <summary>Confidence = the untempered probability of the proposed token (default). A mode-seeking heuristic: not exact even with an exact model.</summary>
    LowConfidence = 0,

    /// <summary>Confidence = an independent uniform. With one token per step and T = 1 this samples the model's joint law exactly.</summary>
    Random = 1,
}

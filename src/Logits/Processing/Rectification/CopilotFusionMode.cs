namespace Logits.Processing.Rectification;

/// <summary>Where Transformer Copilot adds its correction <c>f^C</c> to the Pilot's prediction.</summary>
/// <remarks>
/// Zou et al., <i>Transformer Copilot: Learning from The Mistake Log in LLM Fine-tuning</i>, arXiv 2505.16270.
/// The paper's Eq. 8 and Algorithm 2 add the correction to probabilities; the authors' README and its worked
/// figure add it to logits. Library decision (docs/algorithms/paper-methods.md#fusion): both modes exist, the default is
/// <see cref="Probability"/>, and the Copilot is trained on the same target <c>ℓ = onehot(y) − softmax(z)</c>
/// either way.
/// </remarks>
public enum CopilotFusionMode
{
    /// <summary>
    /// Paper Eq. 8: <c>p̃ = softmax(z) + λ·f^C</c>; the processor writes <c>log q</c> with
    /// <c>q = max(p̃, 0) / Σ max(p̃, 0)</c> (the default).
    /// </summary>
    Probability = 0,

    /// <summary>The README's logit fusion: <c>z̃ = z + λ·f^C</c>; normalisation is left to the sampler.</summary>
    Logit = 1,
}

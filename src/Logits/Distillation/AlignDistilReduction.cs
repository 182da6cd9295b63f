namespace Logits.Distillation;

/// <summary>How AlignDistil reduces per-token losses <c>ℓ_{b,t}</c> over a batch (docs/algorithms/paper-methods.md#reductions; AlignDistil, arXiv 2503.02832).</summary>
/// <remarks>
/// <c>m_{b,t}</c> marks the positions that predict response tokens and <c>n_b = Σ_t m_{b,t}</c>. Sequences with
/// <c>n_b = 0</c> are left out of the sequence means; a batch without response tokens gives 0 (library decision).
/// </remarks>
public enum AlignDistilReduction
{
    /// <summary>The paper's <c>1/|y|</c> length normalisation (default): mean over sequences with <c>n_b &gt; 0</c> of <c>(1/n_b)·Σ_t m·ℓ</c>.</summary>
    SequenceMean = 0,

    /// <summary>One mean over all response tokens of the batch: <c>Σ m·ℓ / Σ m</c>.</summary>
    TokenMean = 1,

    /// <summary>No length normalisation: mean over sequences with <c>n_b &gt; 0</c> of <c>Σ_t m·ℓ</c>.</summary>
    SequenceSum = 2,
}

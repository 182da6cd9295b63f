namespace Logits.Distillation;

/// <summary>The teacher AlignDistil distils towards (docs/algorithms/paper-methods.md#teacher-forms; arXiv 2503.02832).</summary>
public enum AlignDistilTeacherForm
{
    /// <summary>
    /// The paper's method (default): <c>z* = z_dpo + α_t·(z_dpo − z_rev)</c>, <c>α_t = r·D_t + ε</c>, per-token weight <c>β₀/α_t</c>.
    /// The second model is the reverse-DPO model.
    /// </summary>
    AdaptiveExtrapolation = 0,

    /// <summary>Theorem 1: <c>z* = w·z_dpo + (1 − w)·z_ref</c>, <c>w = β₀/β</c>, weight <c>β</c>. The second model is the reference (SFT) model.</summary>
    Theorem1Interpolation = 1,

    /// <summary>Fixed contrastive extrapolation: <c>z* = z_dpo + w·(z_dpo − z_rev)</c>, <c>w = β₀/β</c>, weight <c>β</c>.</summary>
    FixedContrastive = 2,

    /// <summary>
    /// Adaptive interpolation: <c>z* = α_t·z_dpo + (1 − α_t)·z_2</c>, with <c>α_t</c> from <c>D(π_dpo, π_2)</c>, not clamped
    /// (it extrapolates when <c>α_t &gt; 1</c>); weight <c>β₀/α_t</c>.
    /// </summary>
    AdaptiveInterpolation = 3,

    /// <summary>Plain reverse-KL distillation towards the DPO model: <c>z* = z_dpo</c>, weight 1; the second model is ignored.</summary>
    PlainTeacher = 4,
}

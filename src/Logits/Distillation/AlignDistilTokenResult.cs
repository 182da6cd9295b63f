namespace Logits.Distillation;

/// <summary>The AlignDistil quantities of one response token, in float64 (docs/algorithms/paper-methods.md#teacher-and-loss; AlignDistil, arXiv 2503.02832).</summary>
/// <param name="Disagreement"><c>D_t</c> under the options' convention, or NaN for teacher forms that do not measure it.</param>
/// <param name="Alpha">The teacher coefficient: <c>α_t = r·D_t + ε</c> for the adaptive forms, <c>w = β₀/β</c> for the
/// fixed forms, 0 for <see cref="AlignDistilTeacherForm.PlainTeacher"/>.</param>
/// <param name="Weight">The per-token weight: <c>β₀/α_t</c>, <c>β</c>, or 1.</param>
/// <param name="KL">The unweighted reverse KL, <c>KL(softmax(z_s/τ) ‖ π*)</c>.</param>
/// <param name="Loss">The per-token loss <c>ℓ_t = Weight · KL</c>.</param>
public readonly record struct AlignDistilTokenResult(double Disagreement, double Alpha, double Weight, double KL, double Loss);

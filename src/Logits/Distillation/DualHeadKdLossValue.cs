namespace Logits.Distillation;

/// <summary>The Dual-Head KD loss of a batch and its two weighted components (docs/algorithms/paper-methods.md#losses; arXiv 2411.08937).</summary>
/// <param name="Total"><c>L = γ·CE + α·L_aux</c>.</param>
/// <param name="CrossEntropy">The weighted main-head term <c>γ·CE(z⁰, y)</c>.</param>
/// <param name="Auxiliary">The weighted auxiliary term <c>α·L_aux(z¹, z_t)</c> (0 once <c>AuxiliaryStopEpoch</c> is reached).</param>
public readonly record struct DualHeadKdLossValue(double Total, double CrossEntropy, double Auxiliary);

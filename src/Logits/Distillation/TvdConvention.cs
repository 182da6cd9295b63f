namespace Logits.Distillation;

/// <summary>How AlignDistil measures the disagreement <c>D_t</c> between the DPO and reverse-DPO distributions.</summary>
/// <remarks>
/// The paper (Zhang et al., arXiv 2503.02832) defines the total variation distance with the factor ½; the
/// official code (<c>songmzhang/AlignDistil</c>) sums the full L1 difference. The library defaults to the
/// paper's convention and compensates with a default scale <c>r = 20</c> (docs/algorithms/paper-methods.md#parameters-and-decisions).
/// </remarks>
public enum TvdConvention
{
    /// <summary>The paper's total variation distance: <c>D = ½ Σ_v |π_dpo(v) − π_rev(v)|</c>, in <c>[0, 1]</c> (default).</summary>
    HalfL1 = 0,

    /// <summary>The official code's full L1 difference: <c>D = Σ_v |π_dpo(v) − π_rev(v)|</c>, in <c>[0, 2]</c>.</summary>
    FullL1 = 1,
}

namespace Logits.Optimization;

/// <summary>How a target-space loss <c>h(z) = Σ_i ℓ_i(z_i)</c> reduces over its N rows.</summary>
/// <remarks>The mean divides the loss, its gradient G and its smoothness constant L by N; the surrogate's step η
/// (≤ 1/L for the majoriser guarantee) scales by N accordingly.</remarks>
public enum SurrogateReduction
{
    /// <summary><c>h(z) = Σ_i ℓ_i(z_i)</c>.</summary>
    Sum = 0,

    /// <summary><c>h(z) = (1/N)·Σ_i ℓ_i(z_i)</c>.</summary>
    Mean = 1,
}

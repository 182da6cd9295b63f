namespace Logits.Diffusion;

/// <summary>How a RADD/SEDD reverse step turns the schedule into the probability of revealing a masked token (docs/algorithms/discrete-diffusion.md#reverse-step).</summary>
public enum RaddUpdate
{
    /// <summary>Tweedie τ-leaping (the default): <c>r = (m(τ) − m(τ′))/m(τ)</c>, the exact conditional reveal probability.</summary>
    Tweedie = 0,

    /// <summary>Euler: <c>r = Δτ·σ(τ)e^{−σ̄}/(1 − e^{−σ̄})</c>, clamped to <c>[0, 1]</c>. Equal to Tweedie for the log-linear schedule.</summary>
    Euler = 1,
}

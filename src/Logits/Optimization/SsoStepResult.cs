namespace Logits.Optimization;

/// <summary>What one SSO outer iteration did.</summary>
/// <param name="LossAtTargets">h_B(z_t), the batch loss before the step (from the one expensive call).</param>
/// <param name="SurrogateValue">g_t at the new parameters, ≤ h_B(z_t) for a solver that does not increase the surrogate;
/// it bounds h_B at the new parameters from above when η ≤ 1/L.</param>
/// <param name="InnerSteps">The inner steps that moved the parameters.</param>
public readonly record struct SsoStepResult(double LossAtTargets, double SurrogateValue, int InnerSteps);

namespace Logits.Flows;

/// <summary>The fixed-step update rules of <see cref="FlowSampler"/> (docs/algorithms/flows.md#ode-solvers).</summary>
public enum OdeSolver
{
    /// <summary>Euler: <c>z ← z + h·v(z, τ)</c>; 1 evaluation per step, order 1.</summary>
    Euler,

    /// <summary>Explicit midpoint RK2: <c>k2 = v(z + ½h·k1, τ + ½h)</c>, <c>z ← z + h·k2</c>; 2 evaluations, order 2.</summary>
    Midpoint,

    /// <summary>Heun (trapezoidal RK2): <c>k2 = v(z + h·k1, τ + h)</c>, <c>z ← z + ½h(k1 + k2)</c>; 2 evaluations, order 2.</summary>
    Heun,

    /// <summary>Classical Runge–Kutta: <c>z ← z + h(k1 + 2k2 + 2k3 + k4)/6</c>; 4 evaluations, order 4.</summary>
    RungeKutta4,

    /// <summary>
    /// rfpp's fixed-noise re-interpolation (forward only): <c>x̂ = z + (1 − τ)·v(z, τ)</c>,
    /// <c>z_next = τ_next·x̂ + (1 − τ_next)·z_0</c>; 1 evaluation per step. Equals Euler for one step.
    /// </summary>
    FixedNoise,
}

/// <summary>The direction of integration.</summary>
public enum FlowDirection
{
    /// <summary>From the first grid time to the last: noise (t = 0) to data (t = 1).</summary>
    Forward,

    /// <summary>From the last grid time to the first: data to noise (the inversion of a forward run).</summary>
    Backward,
}


namespace Logits.Optimization;

/// <summary>An immutable, validated definition of the inner solver that SSO runs on each surrogate
/// <c>g_t(θ) = g_t(z(θ))</c>, starting from <c>ω₀ = θ_t</c> and returning <c>θ_{t+1} = ω_m</c>.</summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="GradientDescent"/>: <c>ω_{k+1} = ω_k − α·∇g_t(ω_k)</c>, <c>∇g_t(ω) = J(ω)ᵀ·(G_t + (z(ω) − z_t)/η)</c>.
/// With m = 1 this is exactly SGD with step α, because <c>∇g_t(θ_t) = ∇f_B(θ_t)</c>.</item>
/// <item><see cref="Armijo"/>: each step starts from the previous accepted step times <c>grow</c> (the first from
/// <c>initialStepSize</c>, reset at every outer iteration) and multiplies it by <c>backtrack</c> until
/// <c>g_t(ω − α∇g) ≤ g_t(ω) − c·α·‖∇g‖²</c>; the defaults c = 0.5, backtrack = 0.9, grow = 1.8 are those of the
/// official code of Lavington et al. A step that cannot be accepted within 1000 halvings ends the inner loop
/// without moving (the surrogate never increases).</item>
/// <item><see cref="Exact"/>: <c>W_{t+1} = W_t − η·X_B⁺·G_t</c> for <see cref="LinearTargetModel"/>, computed as a
/// least-squares solve through an SVD with rank tolerance 1e-12·σ_max, never an explicit inverse of X_BᵀX_B.</item>
/// </list>
/// </remarks>
public sealed class SsoInnerSolver
{
    private SsoInnerSolver(SsoInnerSolverKind kind, int steps, double stepSize, double sufficientDecrease, double backtrack, double grow)
    {
        Kind = kind;
        Steps = steps;
        StepSize = stepSize;
        SufficientDecrease = sufficientDecrease;
        Backtrack = backtrack;
        Grow = grow;
    }

    /// <summary>The exact minimiser (linear target maps only).</summary>
    public static SsoInnerSolver Exact { get; } = new(SsoInnerSolverKind.Exact, 1, 0, 0, 0, 0);

    /// <summary>The kind of solver.</summary>
    public SsoInnerSolverKind Kind { get; }

    /// <summary>m, the number of inner steps (1 for <see cref="SsoInnerSolverKind.Exact"/>).</summary>
    public int Steps { get; }

    /// <summary>α for gradient descent; the initial step for Armijo; 0 for the exact solver.</summary>
    public double StepSize { get; }

    /// <summary>Armijo's c (0 otherwise).</summary>
    public double SufficientDecrease { get; }

    /// <summary>Armijo's backtracking factor (0 otherwise).</summary>
    public double Backtrack { get; }

    /// <summary>Armijo's growth factor between accepted steps (0 otherwise).</summary>
    public double Grow { get; }

    /// <summary>m steps of gradient descent with step α.</summary>
    /// <param name="stepSize">α, finite and &gt; 0 (for a linear map the 1/L step is <c>η/λ_max(X_BᵀX_B)</c>).</param>
    /// <param name="steps">m ≥ 1.</param>
    /// <returns>The definition.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static SsoInnerSolver GradientDescent(double stepSize, int steps = 1)
    {
        CheckStep(stepSize, nameof(stepSize));
        CheckSteps(steps);
        return new SsoInnerSolver(SsoInnerSolverKind.GradientDescent, steps, stepSize, 0, 0, 0);
    }

    /// <summary>m steps of gradient descent with an Armijo backtracking line search.</summary>
    /// <param name="steps">m ≥ 1.</param>
    /// <param name="initialStepSize">The first trial step of every outer iteration, finite and &gt; 0.</param>
    /// <param name="sufficientDecrease">c, in (0, 1).</param>
    /// <param name="backtrack">The shrink factor, in (0, 1).</param>
    /// <param name="grow">The growth factor after an accepted step, finite and ≥ 1.</param>
    /// <returns>The definition.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static SsoInnerSolver Armijo(int steps = 1, double initialStepSize = 1, double sufficientDecrease = 0.5, double backtrack = 0.9, double grow = 1.8)
    {
        CheckSteps(steps);
        CheckStep(initialStepSize, nameof(initialStepSize));
        if (!(sufficientDecrease > 0 && sufficientDecrease < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(sufficientDecrease), sufficientDecrease, "must be in (0, 1)");
        }

        if (!(backtrack > 0 && backtrack < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(backtrack), backtrack, "must be in (0, 1)");
        }

        if (!(grow >= 1) || double.IsPositiveInfinity(grow))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(grow), grow, "must be finite and at least 1");
        }

        return new SsoInnerSolver(SsoInnerSolverKind.Armijo, steps, initialStepSize, sufficientDecrease, backtrack, grow);
    }

    private static void CheckStep(double value, string paramName)
    {
        if (!(value > 0) || double.IsPositiveInfinity(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and greater than 0");
        }
    }

    private static void CheckSteps(int steps)
    {
        Require.AtLeast(steps, 1, nameof(steps));
    }
}

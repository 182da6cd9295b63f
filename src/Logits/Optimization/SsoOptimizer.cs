
namespace Logits.Optimization;

/// <summary>
/// The SSO optimiser of target-based surrogates: per outer iteration one expensive loss gradient in target space, then
/// several cheap parameter steps on the surrogate it defines. An immutable, validated definition.
/// </summary>
/// <remarks>
/// <para>Source: Lavington, Vaswani, Babanezhad, Schmidt and Le Roux, <i>Target-based Surrogates for Stochastic
/// Optimization</i>, ICML 2023 (arXiv 2302.02607). Outer iteration t on a batch B:</para>
/// <code>
/// z_t = z_B(θ_t);   h_t, G_t = oracle(B, z_t)                       (the one expensive call)
/// g_t(θ) = h_t + ⟨G_t, z_B(θ) − z_t⟩ + ‖z_B(θ) − z_t‖²/(2η)          (TargetSurrogate)
/// θ_{t+1} = inner solver on g_t from ω₀ = θ_t                         (SsoInnerSolver)
/// </code>
/// <para>With η ≤ 1/L (L the smoothness of h_B in z) g_t majorises f_B, so on full batches the loss never increases;
/// the exact inner minimiser is the projection of the target step <c>z_t − η·G_t</c> onto the realisable targets.
/// With one inner gradient step SSO is SGD. In the stochastic regime a large η with many inner steps can overfit each
/// batch; a decreasing η_t is the usual remedy.</para>
/// </remarks>
public sealed class SsoOptimizer
{
    private const int MaxBacktracks = 1000;

    /// <summary>Creates the definition.</summary>
    /// <param name="eta">η, the target-space step, finite and &gt; 0 (≤ 1/L for the majoriser guarantee, which is not enforced).</param>
    /// <param name="inner">The inner solver.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eta"/> is outside its range.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public SsoOptimizer(double eta, SsoInnerSolver inner)
    {
        Eta = Require.FinitePositive(eta, nameof(eta));

        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
    }

    /// <summary>η.</summary>
    public double Eta { get; }

    /// <summary>The inner solver.</summary>
    public SsoInnerSolver Inner { get; }

    /// <summary>One outer iteration: calls the oracle once at <c>z_B(θ_t)</c>, then updates the parameters in place.</summary>
    /// <param name="model">The target map.</param>
    /// <param name="oracle">The expensive loss gradient.</param>
    /// <param name="rows">The batch, at least one row.</param>
    /// <param name="parameters">θ_t on entry, θ_{t+1} on return.</param>
    /// <returns>The batch loss at θ_t, the surrogate at θ_{t+1} and the inner steps taken.</returns>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    /// <exception cref="ArgumentException">Lengths do not fit, the oracle returns a non-finite value, or the exact
    /// solver is used with a model that is not a <see cref="LinearTargetModel"/>.</exception>
    public SsoStepResult Step(ITargetModel model, TargetLossOracle oracle, ReadOnlySpan<int> rows, Span<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(oracle);
        CheckBatch(model, rows, parameters);
        var targets = new double[rows.Length * model.Width];
        var gradient = new double[targets.Length];
        model.Targets(parameters, rows, targets);
        double loss = oracle(rows, targets, gradient);
        var surrogate = new TargetSurrogate(targets, gradient, model.Width, Eta, loss);
        return Minimize(model, surrogate, rows, parameters);
    }

    /// <summary>Runs the inner solver on a given surrogate (built by the caller at <c>z_B(θ_t)</c> with this η).</summary>
    /// <param name="model">The target map.</param>
    /// <param name="surrogate">g_t; its rows are the batch's.</param>
    /// <param name="rows">The batch.</param>
    /// <param name="parameters">ω₀ = θ_t on entry, θ_{t+1} on return.</param>
    /// <returns>h(z_t), the surrogate at θ_{t+1} and the inner steps taken.</returns>
    /// <exception cref="ArgumentNullException">A reference argument is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, η differs from <see cref="Eta"/>, or the exact solver is
    /// used with a model that is not a <see cref="LinearTargetModel"/>.</exception>
    public SsoStepResult Minimize(ITargetModel model, TargetSurrogate surrogate, ReadOnlySpan<int> rows, Span<double> parameters)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(surrogate);
        CheckBatch(model, rows, parameters);
        if (surrogate.Rows != rows.Length || surrogate.Width != model.Width)
        {
            ThrowHelper.ThrowArgument(nameof(surrogate), $"has {surrogate.Rows} rows × {surrogate.Width} but the batch has {rows.Length} × {model.Width}.");
        }

        if (!surrogate.Eta.Equals(Eta))
        {
            ThrowHelper.ThrowArgument(nameof(surrogate), $"has η = {surrogate.Eta} but the optimiser has η = {Eta}.");
        }

        var z = new double[surrogate.Targets.Length];
        int moved = Inner.Kind switch
        {
            SsoInnerSolverKind.Exact => ExactStep(model, surrogate, rows, parameters),
            SsoInnerSolverKind.Armijo => ArmijoSteps(model, surrogate, rows, parameters, z),
            _ => GradientSteps(model, surrogate, rows, parameters, z),
        };

        model.Targets(parameters, rows, z);
        return new SsoStepResult(surrogate.LossAtTargets, surrogate.Value(z), moved);
    }

    private static void CheckBatch(ITargetModel model, ReadOnlySpan<int> rows, Span<double> parameters)
    {
        if (rows.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(rows), "must select at least one row.");
        }

        if (parameters.Length != model.ParameterCount)
        {
            ThrowHelper.ThrowArgument(nameof(parameters), $"has {parameters.Length} values but the model has {model.ParameterCount} parameters.");
        }
    }

    private int GradientSteps(ITargetModel model, TargetSurrogate surrogate, ReadOnlySpan<int> rows, Span<double> parameters, double[] z)
    {
        var direction = new double[parameters.Length];
        for (int k = 0; k < Inner.Steps; k++)
        {
            SurrogateGradient(model, surrogate, rows, parameters, z, direction);
            for (int j = 0; j < parameters.Length; j++)
            {
                parameters[j] -= Inner.StepSize * direction[j];
            }
        }

        return Inner.Steps;
    }

    private int ArmijoSteps(ITargetModel model, TargetSurrogate surrogate, ReadOnlySpan<int> rows, Span<double> parameters, double[] z)
    {
        var direction = new double[parameters.Length];
        var trial = new double[parameters.Length];
        double step = Inner.StepSize;
        int moved = 0;
        for (int k = 0; k < Inner.Steps; k++)
        {
            double current = SurrogateGradient(model, surrogate, rows, parameters, z, direction);
            double squaredNorm = 0;
            foreach (double g in direction)
            {
                squaredNorm += g * g;
            }

            if (squaredNorm == 0)
            {
                break; // a stationary point of g_t
            }

            bool accepted = false;
            for (int attempt = 0; attempt < MaxBacktracks && !accepted; attempt++)
            {
                for (int j = 0; j < trial.Length; j++)
                {
                    trial[j] = parameters[j] - (step * direction[j]);
                }

                model.Targets(trial, rows, z);
                double value = surrogate.Increase(z);
                if (value <= current - (Inner.SufficientDecrease * step * squaredNorm))
                {
                    accepted = true;
                }
                else
                {
                    step *= Inner.Backtrack;
                }
            }

            if (!accepted)
            {
                break;
            }

            trial.AsSpan().CopyTo(parameters);
            moved++;
            step *= Inner.Grow;
        }

        return moved;
    }

    /// <summary>∇_θ g_t = J(θ)ᵀ·(G_t + (z(θ) − z_t)/η) into <paramref name="direction"/>; returns g_t(θ) − h(z_t).</summary>
    private static double SurrogateGradient(ITargetModel model, TargetSurrogate surrogate, ReadOnlySpan<int> rows, ReadOnlySpan<double> parameters, double[] z, double[] direction)
    {
        model.Targets(parameters, rows, z);
        double value = surrogate.Increase(z);
        surrogate.Gradient(z, z);
        model.BackpropagateTargets(parameters, rows, z, direction);
        return value;
    }

    private int ExactStep(ITargetModel model, TargetSurrogate surrogate, ReadOnlySpan<int> rows, Span<double> parameters)
    {
        if (model is not LinearTargetModel linear)
        {
            ThrowHelper.ThrowArgument(nameof(model), $"is a {model.GetType().Name}; the exact inner solver needs a LinearTargetModel (for other maps use GradientDescent or Armijo).");
            return 0;
        }

        var batch = linear.GatherRows(rows);
        SsoLinear.AddExactChange(batch, rows.Length, linear.FeatureCount, surrogate.TargetGradient, linear.Width, Eta, parameters);
        return 1;
    }
}

using Logits.Optimization;

namespace Logits.TorchSharp.Optimization;

/// <summary>
/// SSO's inner loop on torch tensors: cheap parameter steps on a target-based surrogate, for linear models in closed
/// form (<see cref="LinearStep"/>) and for any differentiable target map through autograd (<see cref="Minimize"/>).
/// </summary>
/// <remarks>
/// <para>The torch form of <see cref="SsoOptimizer"/> and <see cref="SsoLinear"/> (Lavington et al., <i>Target-based
/// Surrogates for Stochastic Optimization</i>, ICML 2023, arXiv 2302.02607), with the same inner solvers
/// (<see cref="SsoInnerSolver"/>): gradient descent <c>ω ← ω − α·∇g_t(ω)</c>; Armijo backtracking (step grown by
/// <c>grow</c> after each accepted step, shrunk by <c>backtrack</c> until
/// <c>g_t(ω − α∇g) ≤ g_t(ω) − c·α·‖∇g‖²</c>); and, for linear maps <c>Z = X_B·W</c>, the exact minimiser
/// <c>W − η·X_B⁺·G_t</c> through <c>linalg.pinv</c> with relative tolerance 1e-12 (never an explicit inverse of
/// X_BᵀX_B). Each Armijo trial synchronises with the host once.</para>
/// <para>Temporaries live in dispose scopes; inputs are never disposed; returned tensors belong to the caller.</para>
/// </remarks>
public static class TorchSso
{
    private const int MaxBacktracks = 1000;

    /// <summary>One SSO step for the linear map <c>Z = X_B·W</c>: returns <c>W_{t+1}</c>.</summary>
    /// <param name="weights">W_t, <c>[d, K]</c>, floating point, finite.</param>
    /// <param name="batchFeatures">X_B, <c>[B, d]</c>, finite.</param>
    /// <param name="targetGradient">G_t = ∇_z h_B(X_B·W_t), <c>[B, K]</c>, finite.</param>
    /// <param name="eta">η, finite and &gt; 0.</param>
    /// <param name="inner">The inner solver.</param>
    /// <returns>W_{t+1}, a new <c>[d, K]</c> tensor in the dtype of <paramref name="weights"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, the dtype is not floating point, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eta"/> is invalid.</exception>
    public static Tensor LinearStep(Tensor weights, Tensor batchFeatures, Tensor targetGradient, double eta, SsoInnerSolver inner)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(batchFeatures);
        ArgumentNullException.ThrowIfNull(targetGradient);
        ArgumentNullException.ThrowIfNull(inner);
        TorchChecks.Positive(eta, nameof(eta));
        TorchChecks.Floating(weights, nameof(weights));
        TorchChecks.Shape(weights, nameof(weights), -1, -1);
        long d = weights.shape[0], k = weights.shape[1];
        TorchChecks.Shape(batchFeatures, nameof(batchFeatures), -1, d);
        long b = batchFeatures.shape[0];
        TorchChecks.Shape(targetGradient, nameof(targetGradient), b, k);
        TorchChecks.Finite(weights, nameof(weights));
        TorchChecks.Finite(batchFeatures, nameof(batchFeatures));
        TorchChecks.Finite(targetGradient, nameof(targetGradient));

        using var scope = NewDisposeScope();
        var x = batchFeatures.to_type(weights.dtype).to(weights.device);
        var g = targetGradient.to_type(weights.dtype).to(weights.device);
        using var etaScalar = eta.ToScalar();
        if (inner.Kind == SsoInnerSolverKind.Exact)
        {
            // W_{t+1} = W_t − η·X_B⁺·G_t: the minimum-norm least-squares change.
            var change = linalg.pinv(x, rtol: 1e-12).matmul(g).mul(etaScalar);
            return weights.detach().sub(change).MoveToOuterDisposeScope();
        }

        var zt = x.matmul(weights.detach());
        using var surrogate = new TorchTargetSurrogate(zt, g, eta, 0);
        var w = weights.detach().clone();
        Func<Tensor, Tensor> gradientOf = point =>
        {
            // ∇_W g_t = X_Bᵀ·(G_t + (X_B·W − Z_t)/η)
            return x.t().matmul(surrogate.Gradient(x.matmul(point)));
        };
        Func<Tensor, double> valueOf = point => surrogate.Value(x.matmul(point)).item<double>();
        var result = inner.Kind == SsoInnerSolverKind.Armijo
            ? ArmijoClosedForm(w, inner, gradientOf, valueOf)
            : GradientDescentClosedForm(w, inner, gradientOf);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Runs the inner solver on <c>g_t(z(θ))</c> for any differentiable target map, updating the parameters in place
    /// (under <c>no_grad</c>) with gradients from autograd.</summary>
    /// <param name="targets">Computes <c>z_B(θ)</c> from the current parameters, with autograd enabled, in the surrogate's shape.</param>
    /// <param name="parameters">θ: leaf tensors with <c>requires_grad</c> (for example a module's parameters).</param>
    /// <param name="surrogate">g_t, built at <c>z_B(θ_t)</c>.</param>
    /// <param name="inner">Gradient descent or Armijo (the exact solver needs a linear map: use <see cref="LinearStep"/>).</param>
    /// <returns>The number of inner steps that moved the parameters.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">No parameters, a parameter without <c>requires_grad</c>, or the exact solver.</exception>
    public static int Minimize(Func<Tensor> targets, IReadOnlyList<Tensor> parameters, TorchTargetSurrogate surrogate, SsoInnerSolver inner)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(surrogate);
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.Kind == SsoInnerSolverKind.Exact)
        {
            ThrowHelper.ThrowArgument(nameof(inner), "is the exact solver, which needs a linear target map; use TorchSso.LinearStep, or GradientDescent/Armijo here.");
        }

        if (parameters.Count == 0 || parameters.Any(p => p is null || !p.requires_grad))
        {
            ThrowHelper.ThrowArgument(nameof(parameters), "must hold at least one tensor, each with requires_grad.");
        }

        var inputs = parameters.ToList();
        using var alpha = inner.StepSize.ToScalar();
        if (inner.Kind == SsoInnerSolverKind.GradientDescent)
        {
            for (int k = 0; k < inner.Steps; k++)
            {
                using var scope = NewDisposeScope();
                var grads = autograd.grad(new[] { surrogate.Value(targets()) }, inputs);
                using (no_grad())
                {
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        inputs[i].sub_(grads[i].mul(alpha));
                    }
                }
            }

            return inner.Steps;
        }

        double step = inner.StepSize;
        int moved = 0;
        for (int k = 0; k < inner.Steps; k++)
        {
            using var scope = NewDisposeScope();
            var value = surrogate.Value(targets());
            double current = value.item<double>();
            var grads = autograd.grad(new[] { value }, inputs);
            double squaredNorm = grads.Sum(g => g.Squared().sum().item<double>());
            if (squaredNorm == 0)
            {
                break;
            }

            var origins = inputs.Select(p => p.detach().clone()).ToList();
            bool accepted = false;
            using (no_grad())
            {
                for (int attempt = 0; attempt < MaxBacktracks && !accepted; attempt++)
                {
                    using var trialStep = step.ToScalar();
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        inputs[i].copy_(origins[i].sub(grads[i].mul(trialStep)));
                    }

                    double trial = surrogate.Value(targets()).item<double>();
                    if (trial <= current - (inner.SufficientDecrease * step * squaredNorm))
                    {
                        accepted = true;
                    }
                    else
                    {
                        step *= inner.Backtrack;
                    }
                }

                if (!accepted)
                {
                    for (int i = 0; i < inputs.Count; i++)
                    {
                        inputs[i].copy_(origins[i]);
                    }
                }
            }

            if (!accepted)
            {
                break;
            }

            moved++;
            step *= inner.Grow;
        }

        return moved;
    }

    private static Tensor GradientDescentClosedForm(Tensor w, SsoInnerSolver inner, Func<Tensor, Tensor> gradientOf)
    {
        using var alpha = inner.StepSize.ToScalar();
        for (int k = 0; k < inner.Steps; k++)
        {
            using var scope = NewDisposeScope();
            w.sub_(gradientOf(w).mul(alpha));
        }

        return w;
    }

    private static Tensor ArmijoClosedForm(Tensor w, SsoInnerSolver inner, Func<Tensor, Tensor> gradientOf, Func<Tensor, double> valueOf)
    {
        double step = inner.StepSize;
        for (int k = 0; k < inner.Steps; k++)
        {
            using var scope = NewDisposeScope();
            double current = valueOf(w);
            var direction = gradientOf(w);
            double squaredNorm = direction.Squared().sum().item<double>();
            if (squaredNorm == 0)
            {
                break;
            }

            Tensor? accepted = null;
            for (int attempt = 0; attempt < MaxBacktracks && accepted is null; attempt++)
            {
                using var trialStep = step.ToScalar();
                var trial = w.sub(direction.mul(trialStep));
                if (valueOf(trial) <= current - (inner.SufficientDecrease * step * squaredNorm))
                {
                    accepted = trial;
                }
                else
                {
                    step *= inner.Backtrack;
                }
            }

            if (accepted is null)
            {
                break;
            }

            w.copy_(accepted);
            step *= inner.Grow;
        }

        return w;
    }
}

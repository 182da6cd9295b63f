
namespace Logits.Optimization;

/// <summary>One SSO step for a linear model <c>Z = X_B·W</c> given the batch's features and its target gradient, with
/// the exact update in closed form.</summary>
/// <remarks>
/// <para>For <c>z = X_B·W</c>, <c>W ∈ ℝ^{d×K}</c> row-major <c>[d, K]</c>: <c>∇_W g_t = X_BᵀG_t + X_Bᵀ(X_B·W − Z_t)/η</c>,
/// and the exact minimiser is <c>W_{t+1} = W_t − η·(X_BᵀX_B)⁺X_BᵀG_t = W_t − η·X_B⁺G_t</c>: the minimum-norm least-squares
/// solution of <c>X_B·ΔW = −η·G_t</c> (rank tolerance 1e-12·σ_max). This is the projection of the target step onto
/// the span of X_B. Inner gradient descent with α = η/λ_max(X_BᵀX_B) is the 1/L step of g_t and converges to the same
/// point when <c>W_t</c> lies in the row space of X_B (for instance from W₀ = 0).</para>
/// <para>Source: Lavington et al., <i>Target-based Surrogates for Stochastic Optimization</i>, ICML 2023
/// (arXiv 2302.02607); the closed forms are standard least-squares algebra.</para>
/// </remarks>
public static class SsoLinear
{
    /// <summary>Computes <c>W_{t+1}</c> from <c>W_t</c>, the batch features and <c>G_t</c>.</summary>
    /// <param name="weights">W_t, row-major <c>[d, K]</c>, finite.</param>
    /// <param name="batchFeatures">X_B, row-major <c>[B, d]</c>, finite.</param>
    /// <param name="targetGradient">G_t = ∇_z h_B(X_B·W_t), row-major <c>[B, K]</c>, finite.</param>
    /// <param name="width">K ≥ 1.</param>
    /// <param name="eta">η, finite and &gt; 0.</param>
    /// <param name="inner">The inner solver.</param>
    /// <param name="destination">Receives W_{t+1} (d·K values); may be <paramref name="weights"/> itself.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> or <paramref name="eta"/> is invalid.</exception>
    public static void Step(ReadOnlySpan<double> weights, ReadOnlySpan<double> batchFeatures, ReadOnlySpan<double> targetGradient, int width, double eta, SsoInnerSolver inner, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Require.AtLeast(width, 1, nameof(width));

        if (weights.IsEmpty || weights.Length % width != 0)
        {
            ThrowHelper.ThrowArgument(nameof(weights), $"has {weights.Length} values, which is not a positive multiple of the width {width}.");
        }

        if (targetGradient.IsEmpty || targetGradient.Length % width != 0)
        {
            ThrowHelper.ThrowArgument(nameof(targetGradient), $"has {targetGradient.Length} values, which is not a positive multiple of the width {width}.");
        }

        int d = weights.Length / width;
        int b = targetGradient.Length / width;
        if (batchFeatures.Length != b * d)
        {
            ThrowHelper.ThrowArgument(nameof(batchFeatures), $"has {batchFeatures.Length} values but {b} rows × {d} features = {b * d} are required.");
        }

        if (destination.Length < weights.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {weights.Length} are required.");
        }

        Require.AllFinite(weights, nameof(weights));
        var model = new LinearTargetModel(batchFeatures, d, width);
        var rows = new int[b];
        for (int i = 0; i < b; i++)
        {
            rows[i] = i;
        }

        var targets = new double[targetGradient.Length];
        model.Targets(weights, rows, targets);

        // h(z_t) does not move the minimiser; 0 stands in for it.
        var surrogate = new TargetSurrogate(targets, targetGradient, width, eta, 0);
        var result = weights.ToArray();
        new SsoOptimizer(eta, inner).Minimize(model, surrogate, rows, result);
        result.CopyTo(destination);
    }

    /// <summary><c>W += −η·X_B⁺·G</c>.</summary>
    internal static void AddExactChange(ReadOnlySpan<double> batch, int rows, int features, ReadOnlySpan<double> targetGradient, int width, double eta, Span<double> weights)
    {
        var rhs = new double[targetGradient.Length];
        for (int i = 0; i < rhs.Length; i++)
        {
            rhs[i] = -eta * targetGradient[i];
        }

        var change = new double[features * width];
        LeastSquares.MinimumNormSolve(batch, rows, features, rhs, width, change);
        for (int i = 0; i < change.Length; i++)
        {
            weights[i] += change[i];
        }
    }
}

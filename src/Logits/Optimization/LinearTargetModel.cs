
namespace Logits.Optimization;

/// <summary>The linear target map <c>z_i = x_iᵀ·W</c>, <c>W ∈ ℝ^{d×K}</c> (parameters row-major <c>[d, K]</c>), over a
/// fixed float64 design matrix X <c>[N, d]</c>.</summary>
/// <remarks>
/// <para>For a batch B: <c>Z_B = X_B·W</c> and <c>J_Bᵀ·V = X_Bᵀ·V</c>. The surrogate <c>g_t(W)</c> is a quadratic in W
/// with Hessian <c>X_BᵀX_B/η</c>, so inner gradient descent is stable for <c>α &lt; 2η/λ_max(X_BᵀX_B)</c> and its 1/L
/// step is <c>α = η/λ_max(X_BᵀX_B)</c> (<see cref="LargestGramEigenvalue"/>). The exact inner minimiser is
/// <c>W_{t+1} = W_t − η·X_B⁺·G_t</c> with the Moore–Penrose pseudo-inverse (the minimum-norm change when X_B is
/// rank-deficient); see <see cref="SsoLinear"/>.</para>
/// </remarks>
public sealed class LinearTargetModel : ITargetModel
{
    private readonly double[] _features;

    /// <summary>Creates the model over row-major features (copied).</summary>
    /// <param name="features">X, row-major <c>[N, d]</c>, finite.</param>
    /// <param name="featureCount">d ≥ 1, dividing the length.</param>
    /// <param name="width">K ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="featureCount"/> or <paramref name="width"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The length is not a positive multiple of d, or a feature is not finite.</exception>
    public LinearTargetModel(ReadOnlySpan<double> features, int featureCount, int width)
    {
        FeatureCount = Require.AtLeast(featureCount, 1, nameof(featureCount));
        Width = Require.AtLeast(width, 1, nameof(width));

        if (features.IsEmpty || features.Length % featureCount != 0)
        {
            ThrowHelper.ThrowArgument(nameof(features), $"has {features.Length} values, which is not a positive multiple of {featureCount} features.");
        }

        Require.AllFinite(features, nameof(features));
        _features = features.ToArray();
        Rows = features.Length / featureCount;
    }

    /// <summary>d, the number of features.</summary>
    public int FeatureCount { get; }

    /// <inheritdoc />
    public int Width { get; }

    /// <inheritdoc />
    public int Rows { get; }

    /// <inheritdoc />
    public int ParameterCount => FeatureCount * Width;

    /// <summary>The design matrix X, row-major <c>[N, d]</c>.</summary>
    public ReadOnlySpan<double> Features => _features;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row index is outside <c>[0, N)</c>.</exception>
    public void Targets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, Span<double> destination)
    {
        Check(parameters, rows);
        if (destination.Length < rows.Length * Width)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {rows.Length * Width} are required.");
        }

        int d = FeatureCount, k = Width;
        for (int r = 0; r < rows.Length; r++)
        {
            var x = _features.AsSpan(rows[r] * d, d);
            var z = destination.Slice(r * k, k);
            z.Clear();
            for (int j = 0; j < d; j++)
            {
                double xj = x[j];
                var w = parameters.Slice(j * k, k);
                for (int c = 0; c < k; c++)
                {
                    z[c] += xj * w[c];
                }
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row index is outside <c>[0, N)</c>.</exception>
    public void BackpropagateTargets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, ReadOnlySpan<double> targetGradient, Span<double> destination)
    {
        Check(parameters, rows);
        if (targetGradient.Length != rows.Length * Width)
        {
            ThrowHelper.ThrowArgument(nameof(targetGradient), $"has {targetGradient.Length} values but {rows.Length * Width} are required.");
        }

        if (destination.Length < ParameterCount)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {ParameterCount} are required.");
        }

        int d = FeatureCount, k = Width;
        destination[..ParameterCount].Clear();
        for (int r = 0; r < rows.Length; r++)
        {
            var x = _features.AsSpan(rows[r] * d, d);
            var v = targetGradient.Slice(r * k, k);
            for (int j = 0; j < d; j++)
            {
                double xj = x[j];
                var g = destination.Slice(j * k, k);
                for (int c = 0; c < k; c++)
                {
                    g[c] += xj * v[c];
                }
            }
        }
    }

    /// <summary><c>λ_max(X_BᵀX_B) = σ_max(X_B)²</c>, from a Jacobi SVD of the batch's rows.</summary>
    /// <param name="rows">The selected example indices, at least one.</param>
    /// <returns>λ_max ≥ 0.</returns>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row index is outside <c>[0, N)</c>.</exception>
    public double LargestGramEigenvalue(ReadOnlySpan<int> rows)
    {
        if (rows.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(rows), "must select at least one row.");
        }

        var batch = GatherRows(rows);
        double sigma = LeastSquares.LargestSingularValue(batch, rows.Length, FeatureCount);
        return sigma * sigma;
    }

    internal double[] GatherRows(ReadOnlySpan<int> rows)
    {
        int d = FeatureCount;
        var batch = new double[rows.Length * d];
        for (int r = 0; r < rows.Length; r++)
        {
            if ((uint)rows[r] >= (uint)Rows)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), rows[r], $"must hold row indices in [0, {Rows})");
            }

            _features.AsSpan(rows[r] * d, d).CopyTo(batch.AsSpan(r * d, d));
        }

        return batch;
    }

    private void Check(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows)
    {
        if (parameters.Length != ParameterCount)
        {
            ThrowHelper.ThrowArgument(nameof(parameters), $"has {parameters.Length} values but W has {FeatureCount} × {Width} = {ParameterCount}.");
        }

        foreach (int row in rows)
        {
            if ((uint)row >= (uint)Rows)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), row, $"must hold row indices in [0, {Rows})");
            }
        }
    }
}

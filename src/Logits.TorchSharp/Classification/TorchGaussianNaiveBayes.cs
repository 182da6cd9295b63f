using Logits.Classification;
using Logits.TorchSharp.Optimization;

namespace Logits.TorchSharp.Classification;

/// <summary>
/// Fits the pooled-variance Gaussian naive Bayes head on torch tensors and returns its linear logits
/// <c>z = x·Wᵀ + b</c>: the torch form of <see cref="GaussianNaiveBayesHead"/>.
/// </summary>
/// <remarks>
/// <para>The same rule as <see cref="GaussianNaiveBayesHead"/> (Zheng et al., <i>Revisiting Discriminative vs.
/// Generative Classifiers</i>, ICML 2023, arXiv 2302.02334): class means, within-class squared deviations from them
/// (two passes, never <c>Σx² − (Σx)²/m</c>), pooled variance <c>σ²_j = (1/m)·Σ_k SSD_{k,j} + ε</c>,
/// <c>W_k = μ_k/σ²</c>, <c>b_k = −½·Σ_j μ²_{k,j}/σ²_j + ln(m_k/m)</c>. The work runs in float64 on the features'
/// device whatever their dtype. A class without examples or a zero pooled variance throws
/// <see cref="InvalidOperationException"/>, as on the CPU. Validation synchronises with the host a few times; inputs are
/// never disposed and the returned tensors belong to the caller.</para>
/// </remarks>
public static class TorchGaussianNaiveBayes
{
    /// <summary>Fits the head and returns <c>W [K, n]</c> and <c>b [K]</c> in float64.</summary>
    /// <param name="features">X, <c>[m, n]</c>, floating point, finite, m, n ≥ 1.</param>
    /// <param name="labels">y, <c>[m]</c> integer labels in <c>[0, K)</c>.</param>
    /// <param name="classCount">K ≥ 2.</param>
    /// <param name="varSmoothing">ε, finite and ≥ 0 (absolute).</param>
    /// <returns>The weights and biases.</returns>
    /// <exception cref="ArgumentNullException">A tensor is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, the dtypes are wrong, or a feature is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">K, ε or a label is out of range.</exception>
    /// <exception cref="InvalidOperationException">A class has no example, or a pooled variance is 0.</exception>
    public static (Tensor Weights, Tensor Bias) Fit(Tensor features, Tensor labels, int classCount, double varSmoothing = GaussianNaiveBayesHead.DefaultVarSmoothing)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (classCount < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(classCount), classCount, "must be at least 2");
        }

        if (!(varSmoothing >= 0) || double.IsPositiveInfinity(varSmoothing))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(varSmoothing), varSmoothing, "must be finite and at least 0");
        }

        TorchChecks.Floating(features, nameof(features));
        TorchChecks.Shape(features, nameof(features), -1, -1);
        long m = features.shape[0];
        if (labels.Dimensions != 1 || labels.shape[0] != m || labels.is_floating_point() || labels.dtype == ScalarType.Bool)
        {
            ThrowHelper.ThrowArgument(nameof(labels), $"must be [{m}] integer labels; got [{string.Join(", ", labels.shape)}] of {labels.dtype}.");
        }

        TorchChecks.Finite(features, nameof(features));
        using var scope = NewDisposeScope();
        var y = labels.to_type(ScalarType.Int64).to(features.device);
        long low = y.min().item<long>(), high = y.max().item<long>();
        if (low < 0 || high >= classCount)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), low < 0 ? low : high, $"must hold labels in [0, {classCount})");
        }

        var x = features.to_type(ScalarType.Float64);
        var onehot = nn.functional.one_hot(y, classCount).to_type(ScalarType.Float64); // [m, K]
        var counts = onehot.sum(dim: 0); // [K]
        var countsHost = counts.data<double>().ToArray();
        for (int k = 0; k < classCount; k++)
        {
            if (countsHost[k] == 0)
            {
                throw new InvalidOperationException($"Class {k} has no example, so its mean and prior are undefined; every class must be observed before the head produces logits.");
            }
        }

        var means = onehot.t().matmul(x).div(counts.unsqueeze(1)); // [K, n]
        var deviations = x.sub(means.index_select(0, y));
        var ssd = onehot.t().matmul(deviations.Squared()); // [K, n]
        using var inverseCount = (1.0 / m).ToScalar();
        using var epsilon = varSmoothing.ToScalar();
        var variance = ssd.sum(dim: 0).mul(inverseCount).add(epsilon, TorchScalars.One); // [n]
        using (var check = NewDisposeScope())
        {
            using var zero = 0.0.ToScalar();
            if (!variance.gt(zero).all().item<bool>())
            {
                throw new InvalidOperationException("A pooled variance is 0 (a feature is constant within every class and varSmoothing is 0); W = μ/σ² is undefined.");
            }
        }

        var weights = means.div(variance.unsqueeze(0));
        using var half = (-0.5).ToScalar();
        var bias = means.mul(weights).sum(1).mul(half).Plus(counts.mul(inverseCount).log());
        return (weights.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }
}

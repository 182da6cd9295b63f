
namespace Logits.Optimization;

/// <summary>
/// An immutable binary classification dataset <c>(a_i, y_i)</c>, <c>a_i ∈ ℝᵈ</c>, <c>y_i ∈ {−1, +1}</c>, with the
/// logistic loss, its gradient and the margins that gradient descent and the perceptrons act on.
/// </summary>
/// <remarks>
/// <code>
/// m_i(θ) = y_i·a_iᵀθ                          margins
/// f(θ)   = (1/n)·Σ_i ln(1 + e^{−m_i}) = (1/n)·Σ_i softplus(−m_i)
/// ∇f(θ)  = −(1/n)·Σ_i σ(−m_i)·y_i·a_i,        σ(−m) = exp(−softplus(m))
/// R      = max_i ‖a_i‖
/// </code>
/// <para><c>softplus(u) = max(u, 0) + log1p(e^{−|u|})</c>, so the loss and σ never overflow, whatever the scale of θ
/// (a naive <c>exp</c> overflows once <c>|m|</c> exceeds 709). The data are separable when some θ makes every margin
/// positive. Margins and sums are accumulated in float64 in index order, so results are deterministic.</para>
/// </remarks>
public sealed class BinaryClassificationData
{
    private readonly double[] _features;
    private readonly int[] _labels;
    private readonly double[] _signed; // y_i·a_i, row-major: every rule uses only these

    /// <summary>Creates a dataset from row-major features and ±1 labels (both copied).</summary>
    /// <param name="features">Row-major <c>[n, d]</c> finite values, <c>d = features.Length / labels.Length</c>.</param>
    /// <param name="labels">n ≥ 1 labels, each exactly −1 or +1.</param>
    /// <exception cref="ArgumentException">No labels, a label other than ±1, a feature length that is not a positive
    /// multiple of n, or a non-finite feature.</exception>
    public BinaryClassificationData(ReadOnlySpan<double> features, ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(labels), "must hold at least one label.");
        }

        if (features.IsEmpty || features.Length % labels.Length != 0)
        {
            ThrowHelper.ThrowArgument(nameof(features), $"has {features.Length} values, which is not a positive multiple of the {labels.Length} labels (one row per label).");
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] is not (1 or -1))
            {
                ThrowHelper.ThrowArgument(nameof(labels), $"holds {labels[i]} at index {i}; labels must be exactly -1 or +1.");
            }
        }

        Require.AllFinite(features, nameof(features));

        Count = labels.Length;
        Dimension = features.Length / labels.Length;
        _features = features.ToArray();
        _labels = labels.ToArray();
        _signed = new double[_features.Length];
        double radius = 0;
        for (int i = 0; i < Count; i++)
        {
            double norm = 0;
            for (int j = 0; j < Dimension; j++)
            {
                double a = _features[(i * Dimension) + j];
                _signed[(i * Dimension) + j] = _labels[i] * a;
                norm += a * a;
            }

            radius = Math.Max(radius, Math.Sqrt(norm));
        }

        Radius = radius;
    }

    /// <summary>n, the number of examples.</summary>
    public int Count { get; }

    /// <summary>d, the number of features.</summary>
    public int Dimension { get; }

    /// <summary>R = max_i ‖a_i‖.</summary>
    public double Radius { get; }

    /// <summary>The features, row-major <c>[n, d]</c>.</summary>
    public ReadOnlySpan<double> Features => _features;

    /// <summary>The labels, each −1 or +1.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The worst-case dataset of Tyurin's Theorem 5.1: one point <c>(0.5, −1)</c> labelled +1 and
    /// <c>n − 1</c> points <c>(−0.5, −1)</c> labelled −1 (R² = 1.25, margin μ = 0.5, R²/μ² = 5). On it the batch
    /// perceptron and large-step LR+GD need a number of iterations linear in n.</summary>
    /// <param name="count">n, at least 2.</param>
    /// <returns>The dataset.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 2.</exception>
    public static BinaryClassificationData WorstCase(int count)
    {
        if (count < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, "must be at least 2");
        }

        var features = new double[2 * count];
        var labels = new int[count];
        features[0] = 0.5;
        features[1] = -1;
        labels[0] = 1;
        for (int i = 1; i < count; i++)
        {
            features[2 * i] = -0.5;
            features[(2 * i) + 1] = -1;
            labels[i] = -1;
        }

        return new BinaryClassificationData(features, labels);
    }

    /// <summary>Writes the margins <c>m_i = y_i·a_iᵀθ</c>.</summary>
    /// <param name="theta">d parameters.</param>
    /// <param name="destination">Receives n margins.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public void Margins(ReadOnlySpan<double> theta, Span<double> destination)
    {
        CheckTheta(theta);
        if (destination.Length < Count)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Count} are required.");
        }

        ComputeMargins(theta, destination);
    }

    /// <summary>The logistic loss <c>f(θ) = (1/n)·Σ_i softplus(−m_i)</c>.</summary>
    /// <param name="theta">d parameters.</param>
    /// <returns>f(θ) ≥ 0.</returns>
    /// <exception cref="ArgumentException"><paramref name="theta"/> has the wrong length.</exception>
    public double Loss(ReadOnlySpan<double> theta)
    {
        CheckTheta(theta);
        double total = 0;
        for (int i = 0; i < Count; i++)
        {
            total += LogisticMath.Softplus(-Margin(theta, i));
        }

        return total / Count;
    }

    /// <summary>Writes the gradient <c>∇f(θ) = −(1/n)·Σ_i σ(−m_i)·y_i·a_i</c>.</summary>
    /// <param name="theta">d parameters.</param>
    /// <param name="destination">Receives d values; may not overlap <paramref name="theta"/>.</param>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    public void Gradient(ReadOnlySpan<double> theta, Span<double> destination)
    {
        CheckTheta(theta);
        CheckDestination(destination);
        var weights = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            weights[i] = LogisticMath.SigmoidOfNegative(Margin(theta, i));
        }

        destination[..Dimension].Clear();
        Accumulate(weights, -1.0 / Count, destination);
    }

    /// <summary>The normalisation factor of normalised LR+GD, <c>β = [(1/n)·Σ_i σ(−m_i)]⁻¹ = n/Σ_i σ(−m_i)</c>.</summary>
    /// <param name="theta">d parameters.</param>
    /// <returns>β ≥ 1, evaluated in log space; <c>+∞</c> once every margin is so large that β exceeds the float64
    /// range (the normalised step itself stays finite: it uses the softmax weights, never β).</returns>
    /// <exception cref="ArgumentException"><paramref name="theta"/> has the wrong length.</exception>
    public double NormalizationFactor(ReadOnlySpan<double> theta)
    {
        CheckTheta(theta);
        var logSigma = new double[Count];
        for (int i = 0; i < Count; i++)
        {
            logSigma[i] = -LogisticMath.Softplus(Margin(theta, i));
        }

        return Math.Exp(Math.Log(Count) - LogSumExp(logSigma));
    }

    internal void CheckTheta(ReadOnlySpan<double> theta)
    {
        if (theta.Length != Dimension)
        {
            ThrowHelper.ThrowArgument(nameof(theta), $"has {theta.Length} parameters but the data have {Dimension} features.");
        }
    }

    internal void CheckDestination(Span<double> destination)
    {
        if (destination.Length < Dimension)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Dimension} are required.");
        }
    }

    internal double Margin(ReadOnlySpan<double> theta, int i)
    {
        var row = _signed.AsSpan(i * Dimension, Dimension);
        double total = 0;
        for (int j = 0; j < row.Length; j++)
        {
            total += row[j] * theta[j];
        }

        return total;
    }

    internal void ComputeMargins(ReadOnlySpan<double> theta, Span<double> destination)
    {
        for (int i = 0; i < Count; i++)
        {
            destination[i] = Margin(theta, i);
        }
    }

    /// <summary><c>destination += scale·Σ_i weights_i·y_i·a_i</c>, skipping zero weights.</summary>
    internal void Accumulate(ReadOnlySpan<double> weights, double scale, Span<double> destination)
    {
        for (int i = 0; i < Count; i++)
        {
            double w = weights[i] * scale;
            if (w == 0)
            {
                continue;
            }

            var row = _signed.AsSpan(i * Dimension, Dimension);
            for (int j = 0; j < row.Length; j++)
            {
                destination[j] += w * row[j];
            }
        }
    }

    internal static double LogSumExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (double v in values)
        {
            max = Math.Max(max, v);
        }

        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (double v in values)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}

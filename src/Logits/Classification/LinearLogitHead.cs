
namespace Logits.Classification;

/// <summary>
/// An immutable linear logit head <c>z = W·x + b</c> over K classes and n features, held in float64: the output of a
/// closed-form fit such as <see cref="GaussianNaiveBayesHead.ToLinear"/>, usable wherever logits are consumed.
/// </summary>
/// <remarks>
/// <para><c>z_k = Σ_j W[k, j]·x_j + b_k</c>, accumulated in float64. <see cref="Probabilities"/> is the max-shifted
/// softmax of z; <see cref="Predict"/> the argmax with the lowest index on ties. <see cref="WriteLogits(ReadOnlySpan{float}, LogitBatch)"/>
/// fills a <c>[rows, K]</c> float32 <see cref="LogitBatch"/> on any backend, so the head can feed a processing pipeline
/// or a distillation loss like any model's output.</para>
/// <para>Every weight, bias and feature must be finite (<see cref="ArgumentException"/>). A logit whose magnitude
/// exceeds the float32 range upwards when written to a batch throws <see cref="InvalidLogitsException"/> (stage
/// <c>"linear head"</c>) instead of becoming +∞; one below the float32 range becomes −∞ (probability 0 in float32).</para>
/// </remarks>
public sealed class LinearLogitHead
{
    private readonly double[] _weights;
    private readonly double[] _bias;

    /// <summary>Creates a head from row-major weights <c>W[K, n]</c> and biases <c>b[K]</c> (both copied).</summary>
    /// <param name="weights">K·n finite values, row k holding the weights of class k.</param>
    /// <param name="bias">K finite values, K ≥ 1.</param>
    /// <exception cref="ArgumentException"><paramref name="bias"/> is empty, the weight count is not a positive
    /// multiple of K, or a value is not finite.</exception>
    public LinearLogitHead(ReadOnlySpan<double> weights, ReadOnlySpan<double> bias)
        : this(weights.ToArray(), bias.ToArray())
    {
    }

    // Adopts the arrays without copying; callers hand them over.
    private LinearLogitHead(double[] weights, double[] bias)
    {
        if (bias.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(bias), "must hold at least one class.");
        }

        if (weights.Length == 0 || weights.Length % bias.Length != 0)
        {
            ThrowHelper.ThrowArgument(nameof(weights), $"has {weights.Length} values, which is not a positive multiple of the {bias.Length} classes.");
        }

        Require.AllFinite(weights, nameof(weights));
        Require.AllFinite(bias, nameof(bias));
        _weights = weights;
        _bias = bias;
        ClassCount = bias.Length;
        FeatureCount = weights.Length / bias.Length;
    }

    internal static LinearLogitHead Adopt(double[] weights, double[] bias) => new(weights, bias);

    /// <summary>K, the number of classes (logits per example).</summary>
    public int ClassCount { get; }

    /// <summary>n, the number of features.</summary>
    public int FeatureCount { get; }

    /// <summary>The weights, row-major <c>[K, n]</c>.</summary>
    public ReadOnlySpan<double> Weights => _weights;

    /// <summary>The biases, <c>[K]</c>.</summary>
    public ReadOnlySpan<double> Bias => _bias;

    /// <summary>Writes <c>z = W·x + b</c> for one example.</summary>
    /// <param name="x">n finite features.</param>
    /// <param name="destination">Receives K logits.</param>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or a non-finite value, or
    /// <paramref name="destination"/> is shorter than K.</exception>
    public void Logits(ReadOnlySpan<double> x, Span<double> destination)
    {
        CheckFeatures(x, FeatureCount, nameof(x));
        if (destination.Length < ClassCount)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {ClassCount} are required.");
        }

        Evaluate(x, destination);
    }

    /// <summary>Writes the posterior <c>softmax(W·x + b)</c> (max-shifted) for one example.</summary>
    /// <param name="x">n finite features.</param>
    /// <param name="destination">Receives K probabilities summing to 1.</param>
    /// <exception cref="ArgumentException">A length is wrong or a feature is not finite.</exception>
    public void Probabilities(ReadOnlySpan<double> x, Span<double> destination)
    {
        Logits(x, destination);
        var z = destination[..ClassCount];
        double max = double.NegativeInfinity;
        foreach (double value in z)
        {
            max = Math.Max(max, value);
        }

        double sum = 0;
        for (int k = 0; k < z.Length; k++)
        {
            z[k] = Math.Exp(z[k] - max);
            sum += z[k];
        }

        for (int k = 0; k < z.Length; k++)
        {
            z[k] /= sum;
        }
    }

    /// <summary>The argmax of the logits of one example, lowest index on ties.</summary>
    /// <param name="x">n finite features.</param>
    /// <returns>The predicted class in <c>[0, K)</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="x"/> has the wrong length or a non-finite value.</exception>
    public int Predict(ReadOnlySpan<double> x)
    {
        CheckFeatures(x, FeatureCount, nameof(x));
        Span<double> z = ClassCount <= 256 ? stackalloc double[ClassCount] : new double[ClassCount];
        Evaluate(x, z);
        int best = 0;
        for (int k = 1; k < z.Length; k++)
        {
            if (z[k] > z[best])
            {
                best = k;
            }
        }

        return best;
    }

    /// <summary>Fills a <c>[rows, K]</c> logit batch from row-major float32 features, one row per example.</summary>
    /// <param name="features">Row-major <c>[destination.Rows, n]</c> finite features.</param>
    /// <param name="destination">A batch with <c>Vocab = K</c>, on any backend.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit or a feature is not finite.</exception>
    /// <exception cref="InvalidLogitsException">A logit overflows float32 upwards.</exception>
    public void WriteLogits(ReadOnlySpan<float> features, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckBatch(features.Length, destination);
        var row = new double[FeatureCount];
        var z = new double[ClassCount];
        var values = new float[destination.Length];
        for (int r = 0; r < destination.Rows; r++)
        {
            for (int j = 0; j < FeatureCount; j++)
            {
                row[j] = features[(r * FeatureCount) + j];
            }

            CheckFeatures(row, FeatureCount, nameof(features));
            Evaluate(row, z);
            Store(z, values.AsSpan(r * ClassCount, ClassCount), r);
        }

        destination.CopyFrom(values);
    }

    /// <summary>Fills a <c>[rows, K]</c> logit batch from row-major float64 features, one row per example.</summary>
    /// <param name="features">Row-major <c>[destination.Rows, n]</c> finite features.</param>
    /// <param name="destination">A batch with <c>Vocab = K</c>, on any backend.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit or a feature is not finite.</exception>
    /// <exception cref="InvalidLogitsException">A logit overflows float32 upwards.</exception>
    public void WriteLogits(ReadOnlySpan<double> features, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckBatch(features.Length, destination);
        var z = new double[ClassCount];
        var values = new float[destination.Length];
        for (int r = 0; r < destination.Rows; r++)
        {
            var row = features.Slice(r * FeatureCount, FeatureCount);
            CheckFeatures(row, FeatureCount, nameof(features));
            Evaluate(row, z);
            Store(z, values.AsSpan(r * ClassCount, ClassCount), r);
        }

        destination.CopyFrom(values);
    }

    internal static void CheckFeatures(ReadOnlySpan<double> x, int featureCount, string paramName)
    {
        if (x.Length != featureCount)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {x.Length} features but {featureCount} are required.");
        }

        for (int j = 0; j < x.Length; j++)
        {
            if (!double.IsFinite(x[j]))
            {
                ThrowHelper.ThrowArgument(paramName, $"holds the non-finite value {x[j]} at feature {j}.");
            }
        }
    }

    private void CheckBatch(int featureLength, LogitBatch destination)
    {
        if (destination.Vocab != ClassCount)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has vocab {destination.Vocab} but the head has {ClassCount} classes.");
        }

        if ((long)destination.Rows * FeatureCount != featureLength)
        {
            ThrowHelper.ThrowArgument("features", $"has {featureLength} values but {destination.Rows} rows × {FeatureCount} features are required.");
        }
    }

    private void Evaluate(ReadOnlySpan<double> x, Span<double> destination)
    {
        int n = FeatureCount;
        for (int k = 0; k < ClassCount; k++)
        {
            var w = _weights.AsSpan(k * n, n);
            double total = _bias[k];
            for (int j = 0; j < n; j++)
            {
                total += w[j] * x[j];
            }

            destination[k] = total;
        }
    }

    private static void Store(ReadOnlySpan<double> z, Span<float> destination, int row)
    {
        for (int k = 0; k < z.Length; k++)
        {
            float value = (float)z[k];
            if (float.IsPositiveInfinity(value))
            {
                ThrowHelper.ThrowInvalidLogits(row, k, value, "linear head");
            }

            destination[k] = value;
        }
    }}

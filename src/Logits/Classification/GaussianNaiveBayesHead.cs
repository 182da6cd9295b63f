
namespace Logits.Classification;

/// <summary>
/// A Gaussian naive Bayes classifier with one variance per feature shared by every class (pooled variance), whose
/// posterior is exactly a softmax of linear logits <c>z = W·x + b</c>: a closed-form, one-pass logit head.
/// </summary>
/// <remarks>
/// <para>From examples <c>(x_r, y_r)</c>, <c>x_r ∈ ℝⁿ</c>, <c>y_r ∈ {0…K−1}</c>, the head keeps per class the count
/// <c>m_k</c>, the mean <c>μ_k</c> and the within-class sum of squared deviations <c>SSD_k</c> of every feature, all in
/// float64. From them:</para>
/// <code>
/// π_k   = m_k / m                                   (class prior)
/// σ²_j  = Σ_k π_k·(SSD_{k,j}/m_k + ε) = (1/m)·Σ_k SSD_{k,j} + ε   (pooled, prior-weighted variance)
/// W_k,j = μ_{k,j} / σ²_j
/// b_k   = −½·Σ_j μ²_{k,j}/σ²_j + ln π_k
/// </code>
/// <para>Because the variance is shared, the quadratic term <c>−½Σ_j x_j²/σ²_j</c> of the Gaussian log-joint is the same
/// for every class and cancels in the softmax: <c>softmax(W·x + b)</c> is exactly the model's posterior <c>p(y | x)</c>,
/// and the head lives in the same hypothesis class as multiclass logistic regression (the generative/discriminative pair
/// of Ng and Jordan, 2002). Zheng et al., <i>Revisiting Discriminative vs. Generative Classifiers: Theory and
/// Implications</i> (ICML 2023, arXiv 2302.02334), show that multiclass naive Bayes approaches its asymptotic error with
/// O(log n) samples where logistic regression needs O(n), n being the feature dimension; the fitting rule here (per-class
/// population variance plus an absolute ε, prior-weighted pooling) follows their official code.</para>
/// <para>Streaming: <see cref="PartialFit"/> summarises each chunk (two passes: mean, then squared deviations) and
/// <see cref="Merge"/> combines summaries by the pairwise update of Chan, Golub and LeVeque:
/// <c>n = n_a + n_b</c>, <c>μ = μ_a + (μ_b − μ_a)·n_b/n</c>,
/// <c>SSD = SSD_a + SSD_b + (μ_a − μ_b)²·n_a·n_b/n</c>; the textbook <c>Σx² − (Σx)²/m</c> is never used. Any order of
/// chunks and merges gives the batch fit's W and b up to float64 rounding.</para>
/// <para>Library decisions: ε (<see cref="VarSmoothing"/>, default 1e-9) is absolute, not scaled by the largest feature
/// variance as some implementations do (pass a scaled value to get that); a head in which some class has no example
/// refuses to produce logits (<see cref="InvalidOperationException"/>), as does a zero pooled variance (possible only
/// with ε = 0 and a feature that is constant within every class). With a tiny pooled variance W and b grow like 1/ε;
/// consumers must use a max-shifted softmax, as every softmax in this library is.</para>
/// <para>Instances are not thread-safe while they are being fitted; reads of a fitted head may run concurrently.</para>
/// </remarks>
public sealed class GaussianNaiveBayesHead
{
    /// <summary>The default absolute variance smoothing ε, 1e-9.</summary>
    public const double DefaultVarSmoothing = 1e-9;

    private readonly long[] _counts;
    private readonly double[] _means;
    private readonly double[] _ssd;
    private LinearLogitHead? _linear;

    /// <summary>Creates an empty head (no examples yet) for <paramref name="classCount"/> classes and
    /// <paramref name="featureCount"/> features.</summary>
    /// <param name="classCount">K, at least 2.</param>
    /// <param name="featureCount">n, at least 1.</param>
    /// <param name="varSmoothing">ε, finite and ≥ 0; added to every per-class variance (hence to the pooled one).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public GaussianNaiveBayesHead(int classCount, int featureCount, double varSmoothing = DefaultVarSmoothing)
    {
        if (classCount < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(classCount), classCount, "must be at least 2");
        }

        FeatureCount = Require.AtLeast(featureCount, 1, nameof(featureCount));

        if (!(varSmoothing >= 0) || double.IsPositiveInfinity(varSmoothing))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(varSmoothing), varSmoothing, "must be finite and at least 0");
        }

        ClassCount = classCount;
        VarSmoothing = varSmoothing;
        _counts = new long[classCount];
        _means = new double[classCount * featureCount];
        _ssd = new double[classCount * featureCount];
    }

    /// <summary>K, the number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>n, the number of features.</summary>
    public int FeatureCount { get; }

    /// <summary>ε, the absolute variance smoothing.</summary>
    public double VarSmoothing { get; }

    /// <summary>m, the number of examples seen so far.</summary>
    public long SampleCount
    {
        get
        {
            long total = 0;
            foreach (long count in _counts)
            {
                total += count;
            }

            return total;
        }
    }

    /// <summary>Fits a head to row-major examples in one pass.</summary>
    /// <param name="features">The examples, row-major <c>[m, n]</c>; finite. n is <c>features.Length / labels.Length</c>.</param>
    /// <param name="labels">m labels in <c>[0, K)</c>, at least one.</param>
    /// <param name="classCount">K, at least 2.</param>
    /// <param name="varSmoothing">ε, finite and ≥ 0.</param>
    /// <returns>The fitted head (it can keep learning with <see cref="PartialFit"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException">K or ε is outside its range, or a label is outside <c>[0, K)</c>.</exception>
    /// <exception cref="ArgumentException">No labels, a feature length that is not a positive multiple of the label
    /// count, or a non-finite feature.</exception>
    public static GaussianNaiveBayesHead Fit(ReadOnlySpan<double> features, ReadOnlySpan<int> labels, int classCount, double varSmoothing = DefaultVarSmoothing)
    {
        if (labels.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(labels), "must hold at least one label.");
        }

        if (features.IsEmpty || features.Length % labels.Length != 0)
        {
            ThrowHelper.ThrowArgument(nameof(features), $"has {features.Length} values, which is not a positive multiple of the {labels.Length} labels (one row of features per label).");
        }

        var head = new GaussianNaiveBayesHead(classCount, features.Length / labels.Length, varSmoothing);
        head.PartialFit(features, labels);
        return head;
    }

    /// <summary>Adds a chunk of examples to the summary (Chan's pairwise update). An empty chunk changes nothing.</summary>
    /// <param name="features">Row-major <c>[rows, n]</c> with <c>rows = labels.Length</c>; finite.</param>
    /// <param name="labels">The chunk's labels, in <c>[0, K)</c>.</param>
    /// <exception cref="ArgumentException">The feature length is not <c>labels.Length · n</c>, or a feature is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside <c>[0, K)</c>.</exception>
    /// <remarks>The whole chunk is validated before anything changes, so a failed call leaves the head as it was.</remarks>
    public void PartialFit(ReadOnlySpan<double> features, ReadOnlySpan<int> labels)
    {
        int n = FeatureCount;
        if ((long)labels.Length * n != features.Length)
        {
            ThrowHelper.ThrowArgument(nameof(features), $"has {features.Length} values but {labels.Length} labels × {n} features = {(long)labels.Length * n} are required.");
        }

        for (int r = 0; r < labels.Length; r++)
        {
            if ((uint)labels[r] >= (uint)ClassCount)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(labels), labels[r], $"must hold labels in [0, {ClassCount}) (row {r})");
            }
        }

        if (Require.IndexOfNonFinite(features) is int bad and >= 0)
        {
            ThrowHelper.ThrowArgument(nameof(features), $"holds the non-finite value {features[bad]} at row {bad / n}, feature {bad % n}.");
        }

        if (labels.IsEmpty)
        {
            return;
        }

        // The chunk's own summary, two passes per class: the mean first, then squared deviations from it.
        var chunkCounts = new long[ClassCount];
        var chunkMeans = new double[ClassCount * n];
        var chunkSsd = new double[ClassCount * n];
        for (int r = 0; r < labels.Length; r++)
        {
            int k = labels[r];
            chunkCounts[k]++;
            var row = features.Slice(r * n, n);
            var sum = chunkMeans.AsSpan(k * n, n);
            for (int j = 0; j < n; j++)
            {
                sum[j] += row[j];
            }
        }

        for (int k = 0; k < ClassCount; k++)
        {
            if (chunkCounts[k] > 0)
            {
                var mean = chunkMeans.AsSpan(k * n, n);
                double inverse = 1.0 / chunkCounts[k];
                for (int j = 0; j < n; j++)
                {
                    mean[j] *= inverse;
                }
            }
        }

        for (int r = 0; r < labels.Length; r++)
        {
            int k = labels[r];
            var row = features.Slice(r * n, n);
            var mean = chunkMeans.AsSpan(k * n, n);
            var ssd = chunkSsd.AsSpan(k * n, n);
            for (int j = 0; j < n; j++)
            {
                double d = row[j] - mean[j];
                ssd[j] += d * d;
            }
        }

        Combine(chunkCounts, chunkMeans, chunkSsd);
    }

    /// <summary>Adds another head's summary to this one (Chan's pairwise update); <paramref name="other"/> is unchanged.</summary>
    /// <param name="other">A head with the same K, n and ε (it may be this head, which doubles every count).</param>
    /// <exception cref="ArgumentNullException"><paramref name="other"/> is null.</exception>
    /// <exception cref="ArgumentException">K, n or ε differ.</exception>
    public void Merge(GaussianNaiveBayesHead other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.ClassCount != ClassCount || other.FeatureCount != FeatureCount)
        {
            ThrowHelper.ThrowArgument(nameof(other), $"has {other.ClassCount} classes and {other.FeatureCount} features but this head has {ClassCount} and {FeatureCount}.");
        }

        if (!other.VarSmoothing.Equals(VarSmoothing))
        {
            ThrowHelper.ThrowArgument(nameof(other), $"has varSmoothing {other.VarSmoothing} but this head has {VarSmoothing}.");
        }

        // Copies make merging a head into itself safe.
        Combine((long[])other._counts.Clone(), (double[])other._means.Clone(), (double[])other._ssd.Clone());
    }

    /// <summary>Creates an independent copy of this head's summary.</summary>
    /// <returns>A new head with the same counts, means and squared deviations.</returns>
    public GaussianNaiveBayesHead Clone()
    {
        var copy = new GaussianNaiveBayesHead(ClassCount, FeatureCount, VarSmoothing);
        copy.Combine(_counts, _means, _ssd);
        return copy;
    }

    /// <summary>The number of examples of class <paramref name="classIndex"/> seen so far, <c>m_k</c>.</summary>
    /// <param name="classIndex">k, in <c>[0, K)</c>.</param>
    /// <returns><c>m_k</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classIndex"/> is outside <c>[0, K)</c>.</exception>
    public long ClassSampleCount(int classIndex)
    {
        CheckClass(classIndex);
        return _counts[classIndex];
    }

    /// <summary>Copies the class mean <c>μ_k</c> (zeros for a class with no example).</summary>
    /// <param name="classIndex">k, in <c>[0, K)</c>.</param>
    /// <param name="destination">Receives n values.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classIndex"/> is outside <c>[0, K)</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than n.</exception>
    public void ClassMean(int classIndex, Span<double> destination)
    {
        CheckClass(classIndex);
        CheckDestination(destination, FeatureCount);
        _means.AsSpan(classIndex * FeatureCount, FeatureCount).CopyTo(destination);
    }

    /// <summary>Copies the pooled variance <c>σ²_j = (1/m)·Σ_k SSD_{k,j} + ε</c>.</summary>
    /// <param name="destination">Receives n values.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than n.</exception>
    /// <exception cref="InvalidOperationException">No example has been seen.</exception>
    public void PooledVariance(Span<double> destination)
    {
        CheckDestination(destination, FeatureCount);
        long m = SampleCount;
        if (m == 0)
        {
            throw new InvalidOperationException("The naive Bayes head has seen no example; fit it before asking for its variance.");
        }

        int n = FeatureCount;
        for (int j = 0; j < n; j++)
        {
            double total = 0;
            for (int k = 0; k < ClassCount; k++)
            {
                total += _ssd[(k * n) + j];
            }

            destination[j] = (total / m) + VarSmoothing;
        }
    }

    /// <summary>The linear form of the head: <c>W[k, j] = μ_{k,j}/σ²_j</c>, <c>b_k = −½Σ_j μ²_{k,j}/σ²_j + ln π_k</c>.</summary>
    /// <returns>An immutable snapshot; later fitting does not change it.</returns>
    /// <exception cref="InvalidOperationException">A class has no example, or a pooled variance is 0.</exception>
    public LinearLogitHead ToLinear()
    {
        var cached = _linear;
        if (cached is not null)
        {
            return cached;
        }

        int n = FeatureCount;
        for (int k = 0; k < ClassCount; k++)
        {
            if (_counts[k] == 0)
            {
                throw new InvalidOperationException($"Class {k} has no example, so its mean and prior are undefined; every class must be observed before the head produces logits.");
            }
        }

        var variance = new double[n];
        PooledVariance(variance);
        for (int j = 0; j < n; j++)
        {
            if (!(variance[j] > 0))
            {
                throw new InvalidOperationException($"The pooled variance of feature {j} is 0 (the feature is constant within every class and varSmoothing is 0); W = μ/σ² is undefined.");
            }
        }

        double m = SampleCount;
        var weights = new double[ClassCount * n];
        var bias = new double[ClassCount];
        for (int k = 0; k < ClassCount; k++)
        {
            double quadratic = 0;
            for (int j = 0; j < n; j++)
            {
                double mu = _means[(k * n) + j];
                double w = mu / variance[j];
                weights[(k * n) + j] = w;
                quadratic += mu * w;
            }

            bias[k] = (-0.5 * quadratic) + Math.Log(_counts[k] / m);
        }

        cached = LinearLogitHead.Adopt(weights, bias);
        _linear = cached;
        return cached;
    }

    /// <summary>Writes the logits <c>z = W·x + b</c> of one example.</summary>
    /// <param name="x">n finite features.</param>
    /// <param name="destination">Receives K logits.</param>
    /// <exception cref="ArgumentException">A length is wrong or a feature is not finite.</exception>
    /// <exception cref="InvalidOperationException">The head cannot produce logits yet (see <see cref="ToLinear"/>).</exception>
    public void Logits(ReadOnlySpan<double> x, Span<double> destination) => ToLinear().Logits(x, destination);

    /// <summary>The most probable class of one example: the argmax of the logits, lowest index on ties.</summary>
    /// <param name="x">n finite features.</param>
    /// <returns>The predicted class.</returns>
    /// <exception cref="ArgumentException">The length is wrong or a feature is not finite.</exception>
    /// <exception cref="InvalidOperationException">The head cannot produce logits yet (see <see cref="ToLinear"/>).</exception>
    public int Predict(ReadOnlySpan<double> x) => ToLinear().Predict(x);

    /// <summary>Writes the class log-joint <c>ln π_k − ½Σ_j (x_j − μ_{k,j})²/σ²_j</c> of one example.</summary>
    /// <param name="x">n finite features.</param>
    /// <param name="destination">Receives K values.</param>
    /// <remarks>The Gaussian normaliser <c>−½Σ_j ln(2πσ²_j)</c> is left out: it is the same for every class. The
    /// log-joint differs from the logits by the class-independent <c>½Σ_j x_j²/σ²_j</c>, so both give the same
    /// softmax and the same argmax.</remarks>
    /// <exception cref="ArgumentException">A length is wrong or a feature is not finite.</exception>
    /// <exception cref="InvalidOperationException">The head cannot produce logits yet (see <see cref="ToLinear"/>).</exception>
    public void LogJoint(ReadOnlySpan<double> x, Span<double> destination)
    {
        _ = ToLinear(); // the same preconditions as the logits
        LinearLogitHead.CheckFeatures(x, FeatureCount, nameof(x));
        CheckDestination(destination, ClassCount);
        int n = FeatureCount;
        var variance = new double[n];
        PooledVariance(variance);
        double m = SampleCount;
        for (int k = 0; k < ClassCount; k++)
        {
            double total = 0;
            for (int j = 0; j < n; j++)
            {
                double d = x[j] - _means[(k * n) + j];
                total += d * d / variance[j];
            }

            destination[k] = Math.Log(_counts[k] / m) - (0.5 * total);
        }
    }

    private void Combine(long[] counts, double[] means, double[] ssd)
    {
        int n = FeatureCount;
        for (int k = 0; k < ClassCount; k++)
        {
            long nb = counts[k];
            if (nb == 0)
            {
                continue;
            }

            long na = _counts[k];
            double total = na + nb;
            double fraction = nb / total;
            double cross = na * (double)nb / total;
            var meanA = _means.AsSpan(k * n, n);
            var ssdA = _ssd.AsSpan(k * n, n);
            var meanB = means.AsSpan(k * n, n);
            var ssdB = ssd.AsSpan(k * n, n);
            for (int j = 0; j < n; j++)
            {
                double delta = meanB[j] - meanA[j];
                meanA[j] += delta * fraction;
                ssdA[j] += ssdB[j] + (delta * delta * cross);
            }

            _counts[k] = na + nb;
        }

        _linear = null;
    }

    private void CheckClass(int classIndex)
    {
        if ((uint)classIndex >= (uint)ClassCount)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(classIndex), classIndex, $"must be in [0, {ClassCount})");
        }
    }

    private static void CheckDestination(Span<double> destination, int required)
    {
        if (destination.Length < required)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {required} are required.");
        }
    }
}

using Logits.Randomness;

namespace Logits.Flows.Testing;

/// <summary>An isotropic Gaussian mixture <c>Σ_j a_j N(m_j, s²I)</c> in d dimensions (one shared variance).</summary>
public sealed class GaussianMixture
{
    private readonly double[] _means;
    private readonly double[] _logWeights;

    /// <summary>Creates a mixture.</summary>
    /// <param name="means">Row-major component means, <c>[components, dimension]</c>; copied.</param>
    /// <param name="dimension">d, at least 1.</param>
    /// <param name="variance">The per-coordinate variance s², finite and &gt; 0.</param>
    /// <param name="weights">Component weights (normalised here), or null for equal weights.</param>
    /// <exception cref="ArgumentNullException"><paramref name="means"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> or <paramref name="variance"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The lengths do not fit, or a weight is not finite and positive.</exception>
    public GaussianMixture(double[] means, int dimension, double variance, double[]? weights = null)
    {
        ArgumentNullException.ThrowIfNull(means);
        Dimension = Require.AtLeast(dimension, 1, nameof(dimension));
        Variance = Require.FinitePositive(variance, nameof(variance));

        if (means.Length == 0 || means.Length % dimension != 0)
        {
            ThrowHelper.ThrowArgument(nameof(means), $"must hold a positive multiple of {dimension} values; got {means.Length}.");
        }

        int components = means.Length / dimension;
        if (weights is not null && weights.Length != components)
        {
            ThrowHelper.ThrowArgument(nameof(weights), $"has {weights.Length} weights but there are {components} components.");
        }

        double total = 0;
        for (int j = 0; j < components; j++)
        {
            double w = weights?[j] ?? 1;
            if (!(double.IsFinite(w) && w > 0))
            {
                ThrowHelper.ThrowArgument(nameof(weights), $"must be finite and positive; weights[{j}] = {w}.");
            }

            total += w;
        }

        _logWeights = new double[components];
        for (int j = 0; j < components; j++)
        {
            _logWeights[j] = Math.Log((weights?[j] ?? 1) / total);
        }

        _means = (double[])means.Clone();
    }

    /// <summary>The dimension d.</summary>
    public int Dimension { get; }

    /// <summary>The number of components.</summary>
    public int Components => _logWeights.Length;

    /// <summary>The per-coordinate variance of every component.</summary>
    public double Variance { get; }

    /// <summary>The standard normal <c>N(0, I_d)</c>.</summary>
    /// <param name="dimension">d.</param>
    /// <returns>The distribution.</returns>
    public static GaussianMixture StandardNormal(int dimension) => new(new double[dimension], dimension, 1);

    /// <summary>
    /// The source of the triangle toy (docs/algorithms/flows.md#toy-experiment, the official Colab notebook): means
    /// <c>(D√3/2, D/2), (−D√3/2, D/2), (0, −D√3/2)</c>, variance 0.3, D = 10.
    /// </summary>
    /// <param name="scale">D.</param>
    /// <param name="variance">The per-coordinate variance.</param>
    /// <returns>The mixture.</returns>
    public static GaussianMixture TriangleSource(double scale = 10, double variance = 0.3)
    {
        double c = scale * Math.Sqrt(3) / 2;
        return new GaussianMixture(new[] { c, scale / 2, -c, scale / 2, 0, -c }, 2, variance);
    }

    /// <summary>The target of the triangle toy: means <c>(D√3/2, −D/2), (−D√3/2, −D/2), (0, D√3/2)</c>, variance 0.3.</summary>
    /// <param name="scale">D.</param>
    /// <param name="variance">The per-coordinate variance.</param>
    /// <returns>The mixture.</returns>
    public static GaussianMixture TriangleTarget(double scale = 10, double variance = 0.3)
    {
        double c = scale * Math.Sqrt(3) / 2;
        return new GaussianMixture(new[] { c, -scale / 2, -c, -scale / 2, 0, c }, 2, variance);
    }

    /// <summary>Mean coordinate <paramref name="coordinate"/> of component <paramref name="component"/>.</summary>
    /// <param name="component">The component index.</param>
    /// <param name="coordinate">The coordinate index.</param>
    /// <returns>The value.</returns>
    public double Mean(int component, int coordinate) => _means[(component * Dimension) + coordinate];

    /// <summary>The log weight of component <paramref name="component"/>.</summary>
    /// <param name="component">The component index.</param>
    /// <returns><c>log a_j</c>.</returns>
    public double LogWeight(int component) => _logWeights[component];

    /// <summary>Draws <c>destination.Length / d</c> samples, row-major, with Box–Muller normals.</summary>
    /// <param name="random">The stream.</param>
    /// <param name="destination">A multiple of d values.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not a multiple of d long.</exception>
    public void Sample(IRandomSource random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (destination.Length % Dimension != 0)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"must be a multiple of {Dimension} long; got {destination.Length}.");
        }

        double sd = Math.Sqrt(Variance);
        for (int row = 0; row < destination.Length / Dimension; row++)
        {
            double u = random.NextDouble();
            int component = Components - 1;
            double cumulative = 0;
            for (int j = 0; j < Components; j++)
            {
                cumulative += Math.Exp(_logWeights[j]);
                if (u < cumulative)
                {
                    component = j;
                    break;
                }
            }

            for (int i = 0; i < Dimension; i++)
            {
                destination[(row * Dimension) + i] = (float)(Mean(component, i) + (sd * StandardNormal(random)));
            }
        }
    }

    /// <summary>One standard normal draw by Box–Muller (the cosine branch).</summary>
    /// <param name="random">The stream.</param>
    /// <returns>A draw from N(0, 1).</returns>
    public static double StandardNormal(IRandomSource random)
    {
        double u1 = random.NextOpenDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}


namespace Logits.Flows.Testing;

/// <summary>
/// The exact 1-rectified-flow velocity between two isotropic Gaussian mixtures under the independent coupling,
/// <c>v*(x, t) = E[X1 − X0 | X_t = x]</c> (docs/algorithms/flows.md#the-exact-minimiser).
/// </summary>
/// <remarks>
/// <para>For π0 = Σ_j a_j N(m_j, A²I), π1 = Σ_k b_k N(μ_k, B²I) and each pair (j, k):
/// <c>V = (1−t)²A² + t²B²</c>, <c>M_jk = (1−t)m_j + tμ_k</c>, <c>c_t = (tB² − (1−t)A²)/V</c>,
/// <c>w_jk = softmax_jk[log a_j + log b_k − ‖x − M_jk‖²/(2V)]</c> (maximum subtracted first), and
/// <c>v*(x, t) = Σ_jk w_jk[(μ_k − m_j) + c_t(x − M_jk)]</c>. At t = 0, <c>v*(x, 0) = E[X1] − x</c>.</para>
/// <para>N(0, I) → N(μ, I) is the special case <c>v* = μ + (2t − 1)/((1−t)² + t²)·(x − tμ)</c>, whose exact path is
/// <c>Z_t = √((1−t)² + t²)·z0 + tμ</c>.</para>
/// <para>The field is evaluated on the host in float64 (the batch is copied out and back), so it gives the same
/// values on every backend. It is a test and toy fixture, not a fast path.</para>
/// </remarks>
public sealed class GaussianMixtureFlow : IVelocityField
{
    /// <summary>Creates the exact field between <paramref name="source"/> and <paramref name="target"/>.</summary>
    /// <param name="source">π0.</param>
    /// <param name="target">π1, same dimension.</param>
    /// <exception cref="ArgumentNullException">A mixture is null.</exception>
    /// <exception cref="ArgumentException">The dimensions differ.</exception>
    public GaussianMixtureFlow(GaussianMixture source, GaussianMixture target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (source.Dimension != target.Dimension)
        {
            ThrowHelper.ThrowArgument(nameof(target), $"has dimension {target.Dimension} but the source has {source.Dimension}.");
        }

        Source = source;
        Target = target;
    }

    /// <summary>π0.</summary>
    public GaussianMixture Source { get; }

    /// <summary>π1.</summary>
    public GaussianMixture Target { get; }

    /// <summary>The field N(0, I) → N(μ, I).</summary>
    /// <param name="mu">μ; its length is d.</param>
    /// <returns>The field.</returns>
    public static GaussianMixtureFlow GaussianShift(params double[] mu)
    {
        ArgumentNullException.ThrowIfNull(mu);
        return new GaussianMixtureFlow(GaussianMixture.StandardNormal(mu.Length), new GaussianMixture(mu, mu.Length, 1));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="x"/>'s row length is not d, or the shapes differ.</exception>
    public void Evaluate(LogitBatch x, double t, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(x);
        x.EnsureSameShape(destination, nameof(destination));
        if (x.Vocab != Source.Dimension)
        {
            ThrowHelper.ThrowArgument(nameof(x), $"has rows of {x.Vocab} but the field has dimension {Source.Dimension}.");
        }

        float[] values = x.ToArray();
        var point = new double[Source.Dimension];
        var velocity = new double[Source.Dimension];
        for (int r = 0; r < x.Rows; r++)
        {
            for (int i = 0; i < point.Length; i++)
            {
                point[i] = values[(r * point.Length) + i];
            }

            Evaluate(point, t, velocity);
            for (int i = 0; i < point.Length; i++)
            {
                values[(r * point.Length) + i] = (float)velocity[i];
            }
        }

        destination.CopyFrom(values);
    }

    /// <summary>Evaluates <c>v*(x, t)</c> for one point in float64.</summary>
    /// <param name="x">The point, d values.</param>
    /// <param name="t">The time in <c>[0, 1]</c>.</param>
    /// <param name="destination">Receives d values.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1].</exception>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Evaluate(ReadOnlySpan<double> x, double t, Span<double> destination)
    {
        int d = Source.Dimension;
        if (x.Length != d || destination.Length != d)
        {
            ThrowHelper.ThrowArgument(nameof(x), $"and destination must hold {d} values.");
        }

        if (!(t >= 0 && t <= 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(t), t, "must be in [0, 1]");
        }

        double a2 = Source.Variance;
        double b2 = Target.Variance;
        double v = ((1 - t) * (1 - t) * a2) + (t * t * b2);
        double c = ((t * b2) - ((1 - t) * a2)) / v;
        int pairs = Source.Components * Target.Components;
        Span<double> logW = pairs <= 64 ? stackalloc double[pairs] : new double[pairs];
        double max = double.NegativeInfinity;
        for (int j = 0; j < Source.Components; j++)
        {
            for (int k = 0; k < Target.Components; k++)
            {
                double squared = 0;
                for (int i = 0; i < d; i++)
                {
                    double m = ((1 - t) * Source.Mean(j, i)) + (t * Target.Mean(k, i));
                    double diff = x[i] - m;
                    squared += diff * diff;
                }

                double lw = Source.LogWeight(j) + Target.LogWeight(k) - (squared / (2 * v));
                logW[(j * Target.Components) + k] = lw;
                max = Math.Max(max, lw);
            }
        }

        double total = 0;
        for (int p = 0; p < pairs; p++)
        {
            logW[p] = Math.Exp(logW[p] - max);
            total += logW[p];
        }

        destination.Clear();
        for (int j = 0; j < Source.Components; j++)
        {
            for (int k = 0; k < Target.Components; k++)
            {
                double w = logW[(j * Target.Components) + k] / total;
                for (int i = 0; i < d; i++)
                {
                    double m = ((1 - t) * Source.Mean(j, i)) + (t * Target.Mean(k, i));
                    destination[i] += w * ((Target.Mean(k, i) - Source.Mean(j, i)) + (c * (x[i] - m)));
                }
            }
        }
    }
}

using Logits.Randomness;

namespace Logits.Flows.Training;

/// <summary>
/// rfpp's U-shaped timestep density <c>p_a(t) = a·cosh(a(t − ½)) / (2·sinh(a/2))</c>, sampled exactly by inverse CDF
/// and squeezed to <c>[δ, 1 − δ]</c> (Lee, Lin, Fanti 2024; docs/algorithms/flows.md#u-shaped-timesteps).
/// </summary>
/// <remarks>
/// <para>CDF <c>F(t) = [sinh(a(t − ½)) + sinh(a/2)] / (2·sinh(a/2))</c>; inverse
/// <c>t = ½ + asinh((2u − 1)·sinh(a/2))/a</c>; squeeze <c>t ← t(1 − 2δ) + δ</c>. The density is symmetric about ½,
/// so it is the same in rfpp time and library time. a = 0 (below 1e-8) is the uniform distribution; above a = 700 the
/// inverse is evaluated in log space.</para>
/// <para>The official code draws a truncated exponential <c>s = log1p(u·expm1(a))/a</c> (<see cref="TruncatedExponentialInverse"/>),
/// mirrors half of the draws and squeezes; that mixture has exactly this density. Defaults: a = 4 (every official
/// training command; the parser default is 2), δ = 1e-5. The paper's typeset <c>e^{au} + e^{−au}</c> is U-shaped
/// only for a centred variable; the code's <c>cosh(a(t − ½))</c> is implemented.</para>
/// </remarks>
public sealed class UShapedTimeSampler : ITimeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="a">The shape, finite and ≥ 0 (default 4).</param>
    /// <param name="delta">The squeeze δ in [0, 0.5) (default 1e-5).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or NaN.</exception>
    public UShapedTimeSampler(double a = 4, double delta = 1e-5)
    {
        ValidateShape(a);
        if (!(delta >= 0 && delta < 0.5))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(delta), delta, "must be in [0, 0.5)");
        }

        A = a;
        Delta = delta;
    }

    /// <summary>The shape a.</summary>
    public double A { get; }

    /// <summary>The squeeze δ.</summary>
    public double Delta { get; }

    /// <summary>The density <c>p_a(t)</c> on [0, 1].</summary>
    /// <param name="t">The time in [0, 1].</param>
    /// <param name="a">The shape ≥ 0.</param>
    /// <returns>The density.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double Density(double t, double a)
    {
        FlowChecks.Time(t, nameof(t));
        ValidateShape(a);
        return a < 1e-8 ? 1 : a * Math.Cosh(a * (t - 0.5)) / (2 * Math.Sinh(a / 2));
    }

    /// <summary>The CDF <c>F(t)</c>.</summary>
    /// <param name="t">The time in [0, 1].</param>
    /// <param name="a">The shape ≥ 0.</param>
    /// <returns>F(t).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double Cdf(double t, double a)
    {
        FlowChecks.Time(t, nameof(t));
        ValidateShape(a);
        return a < 1e-8 ? t : (Math.Sinh(a * (t - 0.5)) + Math.Sinh(a / 2)) / (2 * Math.Sinh(a / 2));
    }

    /// <summary>The inverse CDF <c>F⁻¹(u) = ½ + asinh((2u − 1)·sinh(a/2))/a</c> (no squeeze).</summary>
    /// <param name="u">u in [0, 1].</param>
    /// <param name="a">The shape ≥ 0.</param>
    /// <returns>t in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double InverseCdf(double u, double a)
    {
        if (!(u >= 0 && u <= 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(u), u, "must be in [0, 1]");
        }

        ValidateShape(a);
        if (a < 1e-8)
        {
            return u;
        }

        double y = (2 * u) - 1;
        if (y == 0)
        {
            return 0.5;
        }

        double t;
        if (a <= 700)
        {
            t = 0.5 + (Math.Asinh(y * Math.Sinh(a / 2)) / a);
        }
        else
        {
            // asinh(|x|) = log|x| + log(1 + √(1 + x⁻²)), log|x| = log|y| + a/2 + log1p(−e^{−a}) − log 2.
            double logX = Math.Log(Math.Abs(y)) + (a / 2) + Math.Log(-double.ExpM1(-a)) - Math.Log(2);
            double inverseSquared = Math.Exp(-2 * logX);
            double asinh = logX + Math.Log(1 + Math.Sqrt(1 + inverseSquared));
            t = 0.5 + (Math.Sign(y) * asinh / a);
        }

        return Math.Clamp(t, 0, 1);
    }

    /// <summary>The official code's truncated-exponential inverse CDF <c>s = log1p(u·expm1(a))/a</c> on [0, 1].</summary>
    /// <param name="u">u in [0, 1].</param>
    /// <param name="a">The shape ≥ 0 (a &lt; 1e-8 gives u).</param>
    /// <returns>s in [0, 1].</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double TruncatedExponentialInverse(double u, double a)
    {
        if (!(u >= 0 && u <= 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(u), u, "must be in [0, 1]");
        }

        ValidateShape(a);
        return a < 1e-8 ? u : Math.Log(1 + (u * double.ExpM1(a))) / a;
    }

    /// <summary>The squeeze <c>t(1 − 2δ) + δ</c>.</summary>
    /// <param name="t">The time.</param>
    /// <param name="delta">δ.</param>
    /// <returns>The squeezed time.</returns>
    public static double Squeeze(double t, double delta) => (t * (1 - (2 * delta))) + delta;

    /// <summary>The squeezed inverse CDF of this sampler at <paramref name="u"/>.</summary>
    /// <param name="u">u in [0, 1].</param>
    /// <returns>t in [δ, 1 − δ].</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="u"/> is out of range.</exception>
    public double Quantile(double u) => Squeeze(InverseCdf(u, A), Delta);

    /// <inheritdoc />
    public double Sample(IRandomSource random) => Quantile(random.NextDouble());

    private static void ValidateShape(double a)
    {
        Require.FiniteNonNegative(a, nameof(a));
    }
}


namespace Logits.Diffusion;

/// <summary>The expected number of function evaluations (E-NFE) of RADD's cached sampler (docs/algorithms/discrete-diffusion.md#caching-and-nfe).</summary>
/// <remarks>
/// With the lazy caching rule the network runs once per step in which at least one of the <c>l</c> tokens is revealed.
/// Log-linear with grid end δ = 0 reveals each token at a step uniform over the <c>n</c> steps, so the NFE is the number of
/// occupied bins when <c>l</c> balls fall into <c>n</c> bins: <c>E = n(1 − (1 − 1/n)^l)</c>, tending to <c>l</c> as <c>n → ∞</c>.
/// Without caching the NFE is <c>n</c>. Source: Ou et al. (RADD), arXiv 2406.03736, Fig. 1a.
/// </remarks>
public static class RaddNfe
{
    /// <summary>E-NFE for <paramref name="steps"/> steps and <paramref name="length"/> masked tokens: <c>n(1 − (1 − 1/n)^l)</c>.</summary>
    /// <param name="steps">n, at least 1.</param>
    /// <param name="length">l, at least 0.</param>
    /// <returns>The expected number of network calls.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or <paramref name="length"/> &lt; 0.</exception>
    public static double Expected(int steps, int length)
    {
        Check(steps, length);
        if (length == 0)
        {
            return 0.0;
        }

        // (1 - 1/n)^l as exp(l log1p(-1/n)) keeps precision for large n.
        return -steps * MaskingSchedule.ExpM1(length * Log1P(-1.0 / steps));
    }

    /// <summary>E-NFE for general per-step reveal probabilities: <c>Σ_k [1 − (1 − p_k)^l]</c>.</summary>
    /// <param name="revealProbabilities">p_k, the probability that a given token is revealed at step k.</param>
    /// <param name="length">l, at least 0.</param>
    /// <returns>The expected number of network calls.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A probability outside <c>[0, 1]</c>, or <paramref name="length"/> &lt; 0.</exception>
    public static double Expected(ReadOnlySpan<double> revealProbabilities, int length)
    {
        if (length < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(length), length, "must be at least 0");
        }

        double sum = 0.0;
        foreach (double p in revealProbabilities)
        {
            if (!(p >= 0.0 && p <= 1.0))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(revealProbabilities), p, "must hold probabilities in [0, 1]");
            }

            sum += p >= 1.0 ? (length > 0 ? 1.0 : 0.0) : -MaskingSchedule.ExpM1(length * Log1P(-p));
        }

        return sum;
    }

    /// <summary>The variance of the cached NFE: <c>n(1 − 1/n)^l + n(n − 1)(1 − 2/n)^l − n²(1 − 1/n)^{2l}</c>.</summary>
    /// <param name="steps">n, at least 1.</param>
    /// <param name="length">l, at least 0.</param>
    /// <returns>The variance (occupied-bin count).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> &lt; 1 or <paramref name="length"/> &lt; 0.</exception>
    public static double Variance(int steps, int length)
    {
        Check(steps, length);
        if (length == 0)
        {
            return 0.0;
        }

        double n = steps;
        double a = Math.Exp(length * Log1P(-1.0 / n));
        double b = steps >= 2 ? Math.Exp(length * Log1P(-2.0 / n)) : (length == 0 ? 1.0 : 0.0);
        return Math.Max(0.0, (n * a) + (n * (n - 1) * b) - (n * n * a * a));
    }

    private static double Log1P(double x) => Math.Abs(x) < 1e-4 ? x - (x * x / 2) + (x * x * x / 3) : Math.Log(1.0 + x);

    private static void Check(int steps, int length)
    {
        Require.AtLeast(steps, 1, nameof(steps));

        if (length < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(length), length, "must be at least 0");
        }
    }
}


namespace Logits.Optimization;

/// <summary>Overflow-free logistic helpers in float64.</summary>
internal static class LogisticMath
{
    /// <summary><c>ln(1 + x)</c> accurate for tiny x (Goldberg's correction: the rounding of <c>1 + x</c> is divided out).</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        // When 1 + x rounds to 1, ln(1 + x) = x to full precision.
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary><c>softplus(u) = ln(1 + e^u) = max(u, 0) + log1p(e^{−|u|})</c>; softplus(−∞) = 0, softplus(+∞) = +∞.</summary>
    public static double Softplus(double u) => double.IsPositiveInfinity(u) ? u : Math.Max(u, 0) + Log1p(Math.Exp(-Math.Abs(u)));

    /// <summary><c>σ(−m) = exp(−softplus(m))</c>, in [0, 1] for every m.</summary>
    public static double SigmoidOfNegative(double m) => Math.Exp(-Softplus(m));
}

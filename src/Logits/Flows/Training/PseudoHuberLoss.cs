
namespace Logits.Flows.Training;

/// <summary>Which constant <c>c</c> the pseudo-Huber loss uses for dimension d.</summary>
public enum PseudoHuberConstant
{
    /// <summary><c>c = k·√d</c>, the iCT constant and the library default (docs/algorithms/flows.md#pseudo-huber-loss).</summary>
    SqrtDimension,

    /// <summary><c>c = k·d</c> with the result divided by d: what the official rfpp training script computes.</summary>
    OfficialRfppCode,
}

/// <summary>How the pseudo-Huber value of one sample is reported.</summary>
public enum PseudoHuberReduction
{
    /// <summary><c>H_c(r)</c> per sample (default).</summary>
    None,

    /// <summary><c>H_c(r)/d</c>.</summary>
    DivideByDimension,
}

/// <summary>
/// The pseudo-Huber loss of rfpp (Lee, Lin, Fanti 2024, "Improving the Training of Rectified Flows"):
/// <c>H_c(r) = √(‖r‖² + c²) − c</c> for a residual <c>r = v_θ − u ∈ ℝ^d</c>.
/// </summary>
/// <remarks>
/// <para>Default <c>c = 0.00054·√d</c> (LIBRARY DECISION; iCT's constant; the official rfpp code uses
/// <c>c = 0.00054·d</c> and divides by d, see <see cref="PseudoHuberConstant.OfficialRfppCode"/>, which forces
/// <see cref="PseudoHuberReduction.DivideByDimension"/>).</para>
/// <para>Evaluated stably as <c>s / (√(s + c²) + c)</c> with <c>s = ‖r‖²</c> accumulated in float64: the naive form
/// loses every digit when <c>s ≪ c²</c>. Gradient <c>∂H/∂r = r / √(s + c²)</c>, norm at most 1. It behaves
/// like <c>‖r‖²/(2c)</c> for small residuals and like <c>‖r‖</c> for large ones.</para>
/// <para>rfpp weights this term by <c>(1 − t')</c> in its own time, i.e. by <c>t</c> in library time
/// (<see cref="RfppWeights.Huber"/>), only when a perceptual term is present.</para>
/// </remarks>
public sealed class PseudoHuberLoss
{
    private readonly double _explicitC;

    /// <summary>Creates the loss with a dimension-dependent constant.</summary>
    /// <param name="factor">k in <c>c = k·√d</c> or <c>c = k·d</c>; finite and &gt; 0 (default 0.00054).</param>
    /// <param name="constant">The constant rule (default <see cref="PseudoHuberConstant.SqrtDimension"/>).</param>
    /// <param name="reduction">The reduction (default none); ignored (forced to divide) for the official preset.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or not defined.</exception>
    public PseudoHuberLoss(double factor = 0.00054, PseudoHuberConstant constant = PseudoHuberConstant.SqrtDimension, PseudoHuberReduction reduction = PseudoHuberReduction.None)
    {
        Factor = Require.FinitePositive(factor, nameof(factor));
        ConstantRule = Require.Defined(constant, nameof(constant));
        Require.Defined(reduction, nameof(reduction));

        Reduction = constant == PseudoHuberConstant.OfficialRfppCode ? PseudoHuberReduction.DivideByDimension : reduction;
    }

    private PseudoHuberLoss(double c, PseudoHuberReduction reduction)
    {
        _explicitC = c;
        Reduction = reduction;
    }

    /// <summary>The factor k (0 when an explicit c is used).</summary>
    public double Factor { get; }

    /// <summary>The constant rule (ignored when an explicit c is used).</summary>
    public PseudoHuberConstant ConstantRule { get; }

    /// <summary>The reduction.</summary>
    public PseudoHuberReduction Reduction { get; }

    /// <summary>The loss with a fixed <c>c</c> for every dimension.</summary>
    /// <param name="c">The constant, finite and &gt; 0.</param>
    /// <param name="reduction">The reduction.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static PseudoHuberLoss WithExplicitC(double c, PseudoHuberReduction reduction = PseudoHuberReduction.None)
    {
        Require.FinitePositive(c, nameof(c));
        Require.Defined(reduction, nameof(reduction));

        return new PseudoHuberLoss(c, reduction);
    }

    /// <summary>The stable <c>√(s + c²) − c = s / (√(s + c²) + c)</c>.</summary>
    /// <param name="squaredNorm">s = ‖r‖² ≥ 0.</param>
    /// <param name="c">c &gt; 0.</param>
    /// <returns>H.</returns>
    public static double Stable(double squaredNorm, double c) => squaredNorm / (Math.Sqrt(squaredNorm + (c * c)) + c);

    /// <summary>The constant c for dimension d.</summary>
    /// <param name="dimension">d ≥ 1.</param>
    /// <returns>c.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is below 1.</exception>
    public double Constant(int dimension)
    {
        Require.AtLeast(dimension, 1, nameof(dimension));

        if (_explicitC > 0)
        {
            return _explicitC;
        }

        return ConstantRule == PseudoHuberConstant.OfficialRfppCode ? Factor * dimension : Factor * Math.Sqrt(dimension);
    }

    /// <summary>The loss of one residual.</summary>
    /// <param name="residual">r, d ≥ 1 values.</param>
    /// <returns><c>H_c(r)</c>, or <c>H_c(r)/d</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="residual"/> is empty.</exception>
    public double Evaluate(ReadOnlySpan<double> residual)
    {
        int d = RequireDimension(residual.Length);
        double s = 0;
        foreach (double r in residual)
        {
            s += r * r;
        }

        double h = Stable(s, Constant(d));
        return Reduction == PseudoHuberReduction.DivideByDimension ? h / d : h;
    }

    /// <summary>The gradient of <see cref="Evaluate(ReadOnlySpan{double})"/> with respect to the residual.</summary>
    /// <param name="residual">r, d ≥ 1 values.</param>
    /// <param name="destination">Receives <c>r / √(‖r‖² + c²)</c> (divided by d when the reduction divides).</param>
    /// <exception cref="ArgumentException">The spans are empty or differ in length.</exception>
    public void Gradient(ReadOnlySpan<double> residual, Span<double> destination)
    {
        int d = RequireDimension(residual.Length);
        if (destination.Length != d)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but the residual has {d}.");
        }

        double s = 0;
        foreach (double r in residual)
        {
            s += r * r;
        }

        double c = Constant(d);
        double scale = 1 / Math.Sqrt(s + (c * c));
        if (Reduction == PseudoHuberReduction.DivideByDimension)
        {
            scale /= d;
        }

        for (int i = 0; i < d; i++)
        {
            destination[i] = residual[i] * scale;
        }
    }

    /// <summary>The per-sample loss of <c>prediction − target</c>, optionally weighted by rfpp's time weight.</summary>
    /// <param name="prediction">v_θ, <c>[samples, d]</c>.</param>
    /// <param name="target">u, same shape.</param>
    /// <param name="destination">One value per row.</param>
    /// <param name="times">When not empty, one library time per row; each loss is multiplied by
    /// <see cref="RfppWeights.Huber"/> (<c>w_H(t) = t</c>, rfpp's <c>(1 − t')</c>).</param>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ or a span is not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is outside [0, 1].</exception>
    public void Evaluate(LogitBatch prediction, LogitBatch target, Span<double> destination, ReadOnlySpan<float> times = default)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        prediction.EnsureSameShape(target, nameof(target));
        FlowChecks.PerRow(destination.Length, prediction.Rows, nameof(destination));
        if (!times.IsEmpty)
        {
            FlowChecks.PerRow(times.Length, prediction.Rows, nameof(times));
        }

        int d = prediction.Vocab;
        float[] a = ArrayPool<float>.Shared.Rent(d);
        float[] b = ArrayPool<float>.Shared.Rent(d);
        double[] residual = ArrayPool<double>.Shared.Rent(d);
        try
        {
            for (int r = 0; r < prediction.Rows; r++)
            {
                FlowLoss.Residual(prediction, target, r, a, b, residual.AsSpan(0, d));
                double value = Evaluate(residual.AsSpan(0, d));
                destination[r] = times.IsEmpty ? value : value * RfppWeights.Huber(times[r]);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
            ArrayPool<double>.Shared.Return(residual);
        }
    }

    private static int RequireDimension(int length)
    {
        if (length < 1)
        {
            ThrowHelper.ThrowArgument("residual", "must hold at least one element.");
        }

        return length;
    }
}

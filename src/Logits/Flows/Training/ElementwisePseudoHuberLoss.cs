
namespace Logits.Flows.Training;

/// <summary>
/// The element-wise pseudo-Huber of Rectified Diffusion's training script: the mean over elements of
/// <c>√(r_j² + c²) − c</c> (default c = 0.001), evaluated stably as <c>r_j² / (√(r_j² + c²) + c)</c>.
/// </summary>
public sealed class ElementwisePseudoHuberLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="c">The constant, finite and &gt; 0 (default 0.001).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="c"/> is out of range.</exception>
    public ElementwisePseudoHuberLoss(double c = 0.001)
    {
        C = Require.FinitePositive(c, nameof(c));

    }

    /// <summary>The constant c.</summary>
    public double C { get; }

    /// <summary>The loss of one residual.</summary>
    /// <param name="residual">r, at least one value (for example x̂0 − x0).</param>
    /// <returns>The mean over elements.</returns>
    /// <exception cref="ArgumentException"><paramref name="residual"/> is empty.</exception>
    public double Evaluate(ReadOnlySpan<double> residual)
    {
        if (residual.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(residual), "must hold at least one element.");
        }

        double sum = 0;
        foreach (double r in residual)
        {
            sum += PseudoHuberLoss.Stable(r * r, C);
        }

        return sum / residual.Length;
    }
}

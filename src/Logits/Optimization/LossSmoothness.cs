namespace Logits.Optimization;

/// <summary>Smoothness constants L in the targets z of common per-example losses, with <see cref="SurrogateReduction.Sum"/>
/// reduction: a target surrogate with step η ≤ 1/L majorises the loss (divide L by N for a mean over N rows).</summary>
/// <remarks>
/// <para>L bounds the largest eigenvalue of the per-example Hessian in z: squared error <c>½‖z − y‖²</c> has Hessian I;
/// the binary logistic loss <c>ln(1 + e^{−y·z})</c> has second derivative <c>σ(z)·σ(−z) ≤ ¼</c>; softmax
/// cross-entropy has Hessian <c>diag(p) − p·pᵀ</c>, whose largest eigenvalue is at most ½.</para>
/// </remarks>
public static class LossSmoothness
{
    /// <summary>L = 1 for the squared error <c>½‖z − y‖²</c>.</summary>
    public const double SquaredError = 1.0;

    /// <summary>L = ¼ for the binary logistic loss <c>ln(1 + e^{−y·z})</c>.</summary>
    public const double BinaryLogistic = 0.25;

    /// <summary>L = ½ for softmax cross-entropy <c>−ln softmax(z)_y</c>.</summary>
    public const double SoftmaxCrossEntropy = 0.5;
}

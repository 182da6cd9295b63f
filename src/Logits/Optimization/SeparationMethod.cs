namespace Logits.Optimization;

/// <summary>The update rules of <see cref="LargeStepSeparation"/>: logistic regression by gradient descent, its
/// normalised variant, and the perceptrons that are their large-step limits.</summary>
/// <remarks>
/// With margins <c>m_i = y_i·a_iᵀθ</c>, <c>S_t = {i : m_i(θ_t) ≤ 0}</c> and <c>n</c> examples (Tyurin,
/// arXiv 2412.08424):
/// <code>
/// GradientDescent            θ += (γ/n)·Σ_i σ(−m_i)·y_i·a_i                      (θ −= γ·∇f)
/// NormalizedGradientDescent  θ += γ·Σ_i w_i·y_i·a_i,  w = softmax(−softplus(m))  (θ −= γ·β_t·∇f)
/// BatchPerceptron            θ += (1/(2n))·Σ_i y_i·a_i on the first step (σ(0) = ½ at θ = 0),
///                            then θ += (1/n)·Σ_{i∈S_t} y_i·a_i
/// NormalizedBatchPerceptron  θ += (1/#S_t)·Σ_{i∈S_t} y_i·a_i
/// Perceptron                 θ += y_j·a_j, j the lowest index in S_t
/// </code>
/// </remarks>
public enum SeparationMethod
{
    /// <summary>Logistic regression by gradient descent with step γ (LR+GD).</summary>
    GradientDescent = 0,

    /// <summary>Normalised LR+GD: the gradient scaled by <c>β_t = [(1/n)·Σ_i σ(−m_i)]⁻¹</c>.</summary>
    NormalizedGradientDescent = 1,

    /// <summary>The batch perceptron, the limit of <c>θ_t/γ</c> under LR+GD as γ → ∞ (step size not used).</summary>
    BatchPerceptron = 2,

    /// <summary>The normalised batch perceptron, the large-step limit of normalised LR+GD (step size not used).</summary>
    NormalizedBatchPerceptron = 3,

    /// <summary>The classic single-sample perceptron, updating on the lowest-index non-positive margin (step size not used).</summary>
    Perceptron = 4,
}

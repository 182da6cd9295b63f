using Logits.Optimization;

namespace Logits.TorchSharp.Optimization;

/// <summary>
/// Logistic regression by gradient descent with large steps, its normalised variant and the perceptrons on torch
/// tensors: the torch form of <see cref="LargeStepSeparation"/>, with the same rules, stopping rule and counting.
/// </summary>
/// <remarks>
/// <para>Tyurin, <i>From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large Step
/// Sizes</i>, arXiv 2412.08424. With <c>u_i = y_i·a_i</c> and margins <c>m = U·θ</c>, the update is
/// <c>θ += Uᵀ·w</c> with <c>w = (γ/n)·exp(−softplus(m))</c> (LR+GD), <c>γ·softmax(−softplus(m))</c> (normalised),
/// <c>1/(2n)</c> on the first step and then <c>1(m ≤ 0)/n</c> (batch perceptron), <c>1(m ≤ 0)/#S</c> (normalised batch
/// perceptron), or the indicator of the first non-positive margin (perceptron). Work runs in float64 on the features'
/// device. <see cref="Separate"/> synchronises with the host once per iteration to test the margins, exactly
/// (<c>&gt; 0</c>). Inputs are never disposed; returned tensors belong to the caller.</para>
/// </remarks>
public static class TorchLargeStepSeparation
{
    /// <summary>One update <c>θ_t → θ_{t+1}</c>.</summary>
    /// <param name="definition">The rule, γ and budget.</param>
    /// <param name="features">A, <c>[n, d]</c>, floating point, finite.</param>
    /// <param name="labels">y, <c>[n]</c>, each −1 or +1.</param>
    /// <param name="theta">θ_t, <c>[d]</c>.</param>
    /// <param name="iteration">t ≥ 0 (the batch perceptron's first step weighs every point ½).</param>
    /// <returns>θ_{t+1}, a new float64 <c>[d]</c> tensor.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, a label is not ±1, or a feature is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iteration"/> is negative.</exception>
    public static Tensor Step(LargeStepSeparation definition, Tensor features, Tensor labels, Tensor theta, int iteration)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(theta);
        if (iteration < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(iteration), iteration, "must be at least 0");
        }

        using var scope = NewDisposeScope();
        var signed = Signed(features, labels);
        TorchChecks.Shape(theta, nameof(theta), signed.shape[1]);
        var current = theta.to_type(ScalarType.Float64).to(signed.device);
        return current.Plus(Delta(definition, signed, current, iteration)).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the rule from θ₀ = 0 until every margin is strictly positive or the budget runs out.</summary>
    /// <param name="definition">The rule, γ and budget.</param>
    /// <param name="features">A, <c>[n, d]</c>.</param>
    /// <param name="labels">y, <c>[n]</c>, each −1 or +1.</param>
    /// <returns>The first separating t ≥ 1 (or the budget), whether it was reached, and θ_t copied to the host.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, a label is not ±1, or a feature is not finite.</exception>
    public static SeparationResult Separate(LargeStepSeparation definition, Tensor features, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(definition);
        using var scope = NewDisposeScope();
        var signed = Signed(features, labels);
        var theta = zeros(new[] { signed.shape[1] }, ScalarType.Float64, signed.device);
        using var zero = 0.0.ToScalar();
        for (int t = 0; t < definition.MaxIterations; t++)
        {
            using var step = NewDisposeScope();
            theta.PlusInPlace(Delta(definition, signed, theta, t));
            if (signed.matmul(theta).gt(zero).all().item<bool>())
            {
                return new SeparationResult(t + 1, true, theta.data<double>().ToArray());
            }
        }

        return new SeparationResult(definition.MaxIterations, false, theta.data<double>().ToArray());
    }

    /// <summary>The logistic loss <c>(1/n)·Σ_i softplus(−y_i·a_iᵀθ)</c>.</summary>
    /// <param name="features">A, <c>[n, d]</c>.</param>
    /// <param name="labels">y, <c>[n]</c>, each −1 or +1.</param>
    /// <param name="theta">θ, <c>[d]</c>.</param>
    /// <returns>A float64 scalar tensor.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit, a label is not ±1, or a feature is not finite.</exception>
    public static Tensor Loss(Tensor features, Tensor labels, Tensor theta)
    {
        ArgumentNullException.ThrowIfNull(theta);
        using var scope = NewDisposeScope();
        var signed = Signed(features, labels);
        TorchChecks.Shape(theta, nameof(theta), signed.shape[1]);
        var margins = signed.matmul(theta.to_type(ScalarType.Float64).to(signed.device));
        return TorchChecks.Softplus(margins.neg()).mean().MoveToOuterDisposeScope();
    }

    private static Tensor Signed(Tensor features, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        TorchChecks.Floating(features, nameof(features));
        TorchChecks.Shape(features, nameof(features), -1, -1);
        TorchChecks.Finite(features, nameof(features));
        var a = features.to_type(ScalarType.Float64);
        var y = TorchChecks.SignLabels(labels, a.shape[0], ScalarType.Float64, a.device, nameof(labels));
        return a.mul(y.unsqueeze(1)); // u_i = y_i·a_i
    }

    private static Tensor Delta(LargeStepSeparation definition, Tensor signed, Tensor theta, int iteration)
    {
        long n = signed.shape[0];
        var margins = signed.matmul(theta);
        using var zero = 0.0.ToScalar();
        using var one = 1.0.ToScalar();
        Tensor weights;
        switch (definition.Method)
        {
            case SeparationMethod.GradientDescent:
                using (var scale = (definition.StepSize / n).ToScalar())
                {
                    weights = TorchChecks.Softplus(margins).neg().exp().mul(scale);
                }

                break;

            case SeparationMethod.NormalizedGradientDescent:
                using (var gamma = definition.StepSize.ToScalar())
                {
                    weights = nn.functional.softmax(TorchChecks.Softplus(margins).neg(), 0).mul(gamma);
                }

                break;

            case SeparationMethod.BatchPerceptron:
                using (var scale = (iteration == 0 ? 0.5 / n : 1.0 / n).ToScalar())
                {
                    weights = iteration == 0
                        ? ones_like(margins).mul(scale)
                        : margins.le(zero).to_type(ScalarType.Float64).mul(scale);
                }

                break;

            case SeparationMethod.NormalizedBatchPerceptron:
                var inside = margins.le(zero).to_type(ScalarType.Float64);
                weights = inside.div(inside.sum().clamp_min(one)); // an empty S_t gives no change
                break;

            default:
                var violated = margins.le(zero);
                weights = zeros_like(margins);
                if (violated.any().item<bool>())
                {
                    long first = violated.to_type(ScalarType.Int32).argmax().item<long>();
                    weights[first].fill_(one);
                }

                break;
        }

        return signed.t().matmul(weights);
    }
}

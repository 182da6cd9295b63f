
namespace Logits.Optimization;

/// <summary>
/// Logistic regression by gradient descent with (possibly huge) step sizes, its normalised variant and the batch
/// perceptrons, run from θ₀ = 0 until every margin is strictly positive: an immutable, validated definition.
/// </summary>
/// <remarks>
/// <para>Source: Tyurin, <i>From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large
/// Step Sizes</i>, arXiv 2412.08424. The update rules are listed on <see cref="SeparationMethod"/>. The paper's facts
/// that this type lets one observe:</para>
/// <list type="bullet">
/// <item>With θ₀ = 0 and γ → ∞, <c>θ_t/γ</c> of LR+GD tends to the batch perceptron's <c>θ̂_t</c> (Theorem 3.2): σ(−γm)
/// becomes a step function. Likewise <c>β_t·∇f</c> tends to <c>−(1/#S_t)·Σ_{S_t} y_i·a_i</c> (β_t → n/#S_t), the
/// normalised batch perceptron step.</item>
/// <item>Iterations until every margin is positive: at most <c>n·R²/μ²</c> for the batch perceptron (Theorem 3.3),
/// <c>R²/μ²</c> for the normalised batch perceptron (Theorem 5.3) and the classic perceptron, and
/// <c>R²/μ² + 2·ln(2n − 1)/(γ·μ²)</c> for normalised LR+GD (Theorem 6.1), so larger γ is better there; the linear
/// dependence on n of large-step LR+GD is unavoidable (Theorem 5.1, <see cref="BinaryClassificationData.WorstCase"/>).</item>
/// <item>A large γ can raise the loss after the first step and still separate at once: high loss can mean fast
/// convergence.</item>
/// </list>
/// <para>Counting (library decision): <see cref="Separate"/> starts from θ₀ = 0, which never counts as separating (all
/// its margins are 0), and returns the first <c>t ≥ 1</c> with <c>m_i(θ_t) &gt; 0</c> for every i, compared exactly
/// with no tolerance. Running out of iterations returns <see cref="SeparationResult.Converged"/> = false; it does not
/// throw.</para>
/// <para>Numerics: σ(−m) = exp(−softplus(m)) and the normalised weights are a softmax of ln σ(−m_i) = −softplus(m_i),
/// so no step overflows or divides 0 by 0, even when <c>γ·|m|</c> exceeds 709 or every margin is large. Sums run in
/// index order in float64, so runs are deterministic.</para>
/// </remarks>
public sealed class LargeStepSeparation
{
    /// <summary>The default iteration budget, 100 000.</summary>
    public const int DefaultMaxIterations = 100_000;

    /// <summary>Creates the definition.</summary>
    /// <param name="method">The update rule.</param>
    /// <param name="stepSize">γ, finite and &gt; 0; used by the two gradient-descent rules (the perceptrons are
    /// scale-free and ignore it, but it is still validated).</param>
    /// <param name="maxIterations">The iteration budget of <see cref="Separate"/>, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range or the method is undefined.</exception>
    public LargeStepSeparation(SeparationMethod method, double stepSize = 1, int maxIterations = DefaultMaxIterations)
    {
        Method = Require.Defined(method, nameof(method));
        StepSize = Require.FinitePositive(stepSize, nameof(stepSize));

        MaxIterations = Require.AtLeast(maxIterations, 1, nameof(maxIterations));

    }

    /// <summary>The update rule.</summary>
    public SeparationMethod Method { get; }

    /// <summary>γ.</summary>
    public double StepSize { get; }

    /// <summary>The iteration budget of <see cref="Separate"/>.</summary>
    public int MaxIterations { get; }

    /// <summary>Applies one update, <c>θ_{t+1} = θ_t + Δ</c>.</summary>
    /// <param name="data">The dataset.</param>
    /// <param name="theta">θ_t, d values.</param>
    /// <param name="iteration">t ≥ 0; only the batch perceptron uses it (its step from t = 0 weighs every point ½).</param>
    /// <param name="destination">Receives θ_{t+1} (d values); may be the same memory as <paramref name="theta"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">A length is wrong.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iteration"/> is negative.</exception>
    /// <remarks>When every margin is already positive, the perceptron rules make no change.</remarks>
    public void Step(BinaryClassificationData data, ReadOnlySpan<double> theta, int iteration, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(data);
        data.CheckTheta(theta);
        data.CheckDestination(destination);
        if (iteration < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(iteration), iteration, "must be at least 0");
        }

        var weights = new double[data.Count];
        var delta = new double[data.Dimension];
        data.ComputeMargins(theta, weights);
        StepCore(data, weights, iteration, delta);
        for (int j = 0; j < data.Dimension; j++)
        {
            destination[j] = theta[j] + delta[j];
        }
    }

    /// <summary>Runs the rule from θ₀ = 0 until every margin is strictly positive or the budget runs out.</summary>
    /// <param name="data">The dataset.</param>
    /// <returns>The first separating t (≥ 1), whether it was reached, and θ_t.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    public SeparationResult Separate(BinaryClassificationData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var theta = new double[data.Dimension];
        var margins = new double[data.Count];
        var delta = new double[data.Dimension];
        for (int t = 0; t < MaxIterations; t++)
        {
            data.ComputeMargins(theta, margins);
            StepCore(data, margins, t, delta);
            for (int j = 0; j < theta.Length; j++)
            {
                theta[j] += delta[j];
            }

            data.ComputeMargins(theta, margins);
            if (AllPositive(margins))
            {
                return new SeparationResult(t + 1, true, theta);
            }
        }

        return new SeparationResult(MaxIterations, false, theta);
    }

    private static bool AllPositive(ReadOnlySpan<double> margins)
    {
        foreach (double m in margins)
        {
            if (!(m > 0))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Turns the margins (overwritten with per-example weights) into the update Δ.</summary>
    private void StepCore(BinaryClassificationData data, Span<double> margins, int iteration, Span<double> delta)
    {
        delta.Clear();
        int n = data.Count;
        switch (Method)
        {
            case SeparationMethod.GradientDescent:
                for (int i = 0; i < n; i++)
                {
                    margins[i] = LogisticMath.SigmoidOfNegative(margins[i]);
                }

                data.Accumulate(margins, StepSize / n, delta);
                break;

            case SeparationMethod.NormalizedGradientDescent:
                // w = softmax(ln σ(−m)) = softmax(−softplus(m)): finite even when every σ(−m) underflows.
                for (int i = 0; i < n; i++)
                {
                    margins[i] = -LogisticMath.Softplus(margins[i]);
                }

                double logTotal = BinaryClassificationData.LogSumExp(margins);
                for (int i = 0; i < n; i++)
                {
                    margins[i] = Math.Exp(margins[i] - logTotal);
                }

                data.Accumulate(margins, StepSize, delta);
                break;

            case SeparationMethod.BatchPerceptron:
                if (iteration == 0)
                {
                    // θ̂₀ = 0: every margin is 0 and σ(0) = ½.
                    margins.Fill(1);
                    data.Accumulate(margins, 0.5 / n, delta);
                }
                else
                {
                    Indicator(margins);
                    data.Accumulate(margins, 1.0 / n, delta);
                }

                break;

            case SeparationMethod.NormalizedBatchPerceptron:
                int size = Indicator(margins);
                if (size > 0)
                {
                    data.Accumulate(margins, 1.0 / size, delta);
                }

                break;

            default:
                int first = -1;
                for (int i = 0; i < n && first < 0; i++)
                {
                    if (margins[i] <= 0)
                    {
                        first = i;
                    }
                }

                margins.Clear();
                if (first >= 0)
                {
                    margins[first] = 1;
                    data.Accumulate(margins, 1.0, delta);
                }

                break;
        }
    }

    /// <summary>Overwrites the margins with the indicator of <c>S_t = {m ≤ 0}</c> and returns its size.</summary>
    private static int Indicator(Span<double> margins)
    {
        int size = 0;
        for (int i = 0; i < margins.Length; i++)
        {
            bool inside = margins[i] <= 0;
            margins[i] = inside ? 1 : 0;
            size += inside ? 1 : 0;
        }

        return size;
    }
}

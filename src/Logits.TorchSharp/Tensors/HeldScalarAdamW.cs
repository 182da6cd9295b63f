using TorchSharp.Modules;

namespace Logits.TorchSharp.Tensors;

/// <summary>
/// AdamW (Loshchilov and Hutter, arXiv 1711.05101) with the update of TorchSharp's <c>optim.AdamW</c>, written so that
/// every Scalar libtorch reads is held across its native call (see <see cref="TorchScalars"/>).
/// </summary>
/// <remarks>
/// <para>
/// TorchSharp's own <c>Adam</c> and <c>AdamW</c> pass numbers such as <c>β₁</c> and <c>1 − β₁</c> to libtorch as
/// implicitly converted Scalars that nothing holds, many per parameter per step, so a collection on another thread
/// can free one mid-call. This is the same update, step for step:
/// <c>θ ← θ·(1 − lr·λ)</c>; <c>m ← β₁m + (1 − β₁)g</c>; <c>v ← β₂v + (1 − β₂)g²</c>;
/// <c>θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)</c>, with <c>t</c> counted per parameter (a parameter
/// without a gradient is skipped and keeps its count). With <c>λ = 0</c> it is Adam.
/// </para>
/// </remarks>
internal sealed class HeldScalarAdamW : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor?[] _firstMoments;
    private readonly Tensor?[] _secondMoments;
    private readonly long[] _steps;
    private double _learningRate;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private readonly double _weightDecay;
    private bool _disposed;

    /// <summary>Creates the optimizer over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of its range.</exception>
    public HeldScalarAdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate > 0) || double.IsInfinity(learningRate))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(learningRate), learningRate, "must be finite and greater than 0");
        }

        if (!(beta1 >= 0 && beta1 < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(beta1), beta1, "must be in [0, 1)");
        }

        if (!(beta2 >= 0 && beta2 < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(beta2), beta2, "must be in [0, 1)");
        }

        if (!(epsilon > 0) || double.IsInfinity(epsilon))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), epsilon, "must be finite and greater than 0");
        }

        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(weightDecay), weightDecay, "must be finite and at least 0");
        }

        _parameters = parameters.ToArray();
        _firstMoments = new Tensor?[_parameters.Length];
        _secondMoments = new Tensor?[_parameters.Length];
        _steps = new long[_parameters.Length];
        _learningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _weightDecay = weightDecay;
    }

    /// <summary>The learning rate of the next <see cref="Step"/> (a schedule sets it before each step).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || double.IsInfinity(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(LearningRate), value, "must be finite and at least 0");
            }

            _learningRate = value;
        }
    }

    /// <summary>Sets every parameter's gradient to zero (as TorchSharp's <c>zero_grad</c>).</summary>
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var parameter in _parameters)
        {
            using var grad = parameter.grad;
            _ = grad?.zero_();
        }
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var decay = (1 - (_learningRate * _weightDecay)).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            var grad = parameter.grad;
            if (grad is null)
            {
                continue;
            }

            long step = ++_steps[i];
            var m = _firstMoments[i] ??= zeros_like(parameter).DetachFromDisposeScope();
            var v = _secondMoments[i] ??= zeros_like(parameter).DetachFromDisposeScope();
            if (_weightDecay != 0)
            {
                parameter.mul_(decay);
            }

            using var biasCorrection2 = Math.Sqrt(1 - Math.Pow(_beta2, step)).ToScalar();
            using var stepSize = (-_learningRate / (1 - Math.Pow(_beta1, step))).ToScalar();
            m.mul_(beta1).add_(grad, oneMinusBeta1);
            v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var denominator = v.sqrt().div_(biasCorrection2).add_(epsilon, TorchScalars.One);
            parameter.addcdiv_(m, denominator, stepSize);
        }
    }

    /// <summary>Releases the moment tensors.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var tensor in _firstMoments.Concat(_secondMoments))
        {
            tensor?.Dispose();
        }
    }
}

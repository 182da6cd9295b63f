using TorchSharp.Modules;

namespace Logits.TorchSharp.Optimization;

/// <summary>An exponential moving average of a module's parameters, updated after each optimiser step.</summary>
/// <remarks>
/// <para>
/// After update <c>t</c> (counted from 1) the average is <c>θ̄ ← d_t·θ̄ + (1 − d_t)·θ</c> with
/// <c>d_t = min(decay, (1 + t)/(10 + t))</c>: the average starts at the first weights and its effective window grows
/// towards <c>1/(1 − decay)</c> steps, so early updates are not dominated by the initial weights (the warm-up form of
/// TensorFlow's <c>ExponentialMovingAverage</c> with <c>num_updates</c>). Averaged weights sample better than the last
/// iterate of a noisy optimiser: Polyak and Juditsky (1992); used by score and diffusion models since Song and Ermon
/// (arXiv 2006.09011).
/// </para>
/// <para>The average lives in float32 tensors on each parameter's device, outside any dispose scope; dispose it.</para>
/// </remarks>
public sealed class ExponentialMovingAverage : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _averages;
    private bool _disposed;

    /// <summary>Starts the average at the module's current parameters.</summary>
    /// <param name="module">The module whose parameters are averaged.</param>
    /// <param name="decay">The largest decay, in <c>[0, 1)</c> (e.g. 0.999: a window of about 1000 steps).</param>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside <c>[0, 1)</c>.</exception>
    public ExponentialMovingAverage(nn.Module module, double decay = 0.999)
    {
        ArgumentNullException.ThrowIfNull(module);
        Decay = Require.FractionBelowOne(decay, nameof(decay));

        _parameters = module.parameters().ToArray();
        using var noGrad = no_grad();
        _averages = _parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>The largest decay.</summary>
    public double Decay { get; }

    /// <summary>Updates so far.</summary>
    public long Updates { get; private set; }

    /// <summary>Moves the average towards the module's current parameters (call after each optimiser step).</summary>
    /// <exception cref="ObjectDisposedException">The average was disposed.</exception>
    public void Update()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Updates++;
        double decay = Math.Min(Decay, (1.0 + Updates) / (10.0 + Updates));
        using var noGrad = no_grad();
        using var keep = decay.ToScalar();
        using var take = (1 - decay).ToScalar();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _averages[i].mul_(keep).add_(_parameters[i], take);
        }
    }

    /// <summary>Copies the averaged weights into the module's parameters (for evaluation or sampling).</summary>
    /// <exception cref="ObjectDisposedException">The average was disposed.</exception>
    public void CopyToModule()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            _parameters[i].copy_(_averages[i]);
        }
    }

    /// <summary>Releases the averaged tensors.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var average in _averages)
        {
            average.Dispose();
        }
    }
}

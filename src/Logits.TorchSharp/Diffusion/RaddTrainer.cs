using Logits.Diffusion;
using Logits.Randomness;
using Logits.TorchSharp.Models;

namespace Logits.TorchSharp.Diffusion;

/// <summary>Trains a <see cref="MaskedTokenTransformer"/> with RADD's t-DCE loss (log-linear schedule, weight 1/τ) and AdamW.</summary>
/// <remarks>
/// <para>
/// One step (docs/algorithms/discrete-diffusion.md#training-losses): a low-discrepancy batch of masking levels τ_b in <c>[τ_min, 1]</c>; each token
/// of sequence b is masked with probability <c>m(τ_b) = (1 − ε)τ_b</c>; the loss is
/// <c>(1/(B·L)) Σ_b w(τ_b) Σ_{masked i} −ln c_θ(x₀ⁱ | x_τ)</c> with <c>w = σ(τ)e^{−σ̄}/(1 − e^{−σ̄}) = 1/τ</c> for log-linear
/// (<see cref="MaskedTokenLoss.TimeWeight"/>), an upper bound on the per-token negative log-likelihood.
/// Source: Ou et al. (RADD), arXiv 2406.03736; official repository ML-GSAI/RADD.
/// </para>
/// </remarks>
public sealed class RaddTrainer : IDisposable
{
    private readonly MaskedTokenTransformer _model;
    private readonly HeldScalarAdamW _optimizer;
    private readonly LogLinearSchedule _schedule;
    private readonly Xoshiro256StarStar _random;
    private readonly double _tauMin;

    /// <summary>Creates the trainer.</summary>
    /// <param name="model">The model to train.</param>
    /// <param name="learningRate">AdamW learning rate (RADD: 3e-4).</param>
    /// <param name="seed">Seeds the masking and time draws.</param>
    /// <param name="tauMin">τ_min in <c>(0, 1)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive learning rate or τ_min out of range.</exception>
    public RaddTrainer(MaskedTokenTransformer model, double learningRate = 3e-4, ulong seed = 0, double tauMin = MaskedTokenLoss.DefaultTauMin)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(learningRate > 0 && double.IsFinite(learningRate)))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(learningRate), learningRate, "must be positive and finite");
        }

        if (!(tauMin > 0 && tauMin < 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tauMin), tauMin, "must be in (0, 1)");
        }

        _model = model;
        _optimizer = new HeldScalarAdamW(model.parameters(), learningRate);
        _schedule = new LogLinearSchedule();
        _random = new Xoshiro256StarStar(seed);
        _tauMin = tauMin;
    }

    /// <summary>The AdamW learning rate of the next steps; set it before each <see cref="Step"/> to follow a schedule
    /// (e.g. the base rate times <see cref="Optimization.WarmupCosineSchedule.Factor"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _optimizer.LearningRate;
        set => _optimizer.LearningRate = value;
    }

    /// <summary>One optimisation step on a batch of clean sequences.</summary>
    /// <param name="clean"><c>[B, L]</c> int64 real token ids.</param>
    /// <returns>The t-DCE loss per token (an upper bound on the NLL per token, in nats).</returns>
    public double Step(Tensor clean)
    {
        ArgumentNullException.ThrowIfNull(clean);
        _model.train();
        using var scope = NewDisposeScope();
        Tensor loss = Loss(clean);
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();
        return loss.item<float>();
    }

    /// <summary>The t-DCE loss per token on a batch, without updating the model.</summary>
    /// <param name="clean"><c>[B, L]</c> int64 real token ids.</param>
    /// <returns>The loss per token.</returns>
    public double Evaluate(Tensor clean)
    {
        ArgumentNullException.ThrowIfNull(clean);
        using var evaluation = new EvaluationScope(_model);
        using var scope = NewDisposeScope();
        return Loss(clean).item<float>();
    }

    /// <inheritdoc />
    public void Dispose() => _optimizer.Dispose();

    private Tensor Loss(Tensor clean)
    {
        long batch = clean.shape[0], length = clean.shape[1];
        var times = new double[batch];
        MaskedTokenLoss.LowDiscrepancyTimes(_random.NextDouble(), times, _tauMin);
        var maskProbability = new float[batch];
        var weight = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            maskProbability[b] = (float)_schedule.MaskProbability(times[b]);
            weight[b] = (float)MaskedTokenLoss.TimeWeight(_schedule, times[b]);
        }

        var uniforms = new float[batch * length];
        for (int i = 0; i < uniforms.Length; i++)
        {
            uniforms[i] = (float)_random.NextDouble();
        }

        Tensor masked = tensor(uniforms, new long[] { batch, length }, device: clean.device)
            .lt(tensor(maskProbability, device: clean.device).unsqueeze(1));
        Tensor noisy = clean.FilledWhere(masked, _model.MaskId);
        Tensor logProbabilities = _model.forward(noisy);
        Tensor nll = -logProbabilities.gather(-1, clean.unsqueeze(-1)).squeeze(-1);
        Tensor perSequence = (nll * masked.to_type(ScalarType.Float32)).sum(1);
        return (perSequence * tensor(weight, device: clean.device)).sum().DividedBy(batch * length);
    }
}

using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Models;

/// <summary>Trains a <see cref="LlamaDecoder"/> on next-token prediction (mean cross-entropy) with AdamW.</summary>
/// <remarks>
/// A step takes a batch of token windows <c>[B, T + 1]</c>: the model reads the first <c>T</c> columns and each position
/// <c>k</c> is scored on column <c>k + 1</c>; the loss is the mean of <c>−ln softmax(logits)[target]</c> over all
/// <c>B·T</c> positions, in nats per token. The optimizer is AdamW (Loshchilov &amp; Hutter, arXiv 1711.05101) with a
/// constant learning rate.
/// </remarks>
public sealed class LlamaDecoderTrainer : IDisposable
{
    private readonly LlamaDecoder _model;
    private readonly HeldScalarAdamW _optimizer;

    /// <summary>Creates the trainer.</summary>
    /// <param name="model">The model to train (not owned).</param>
    /// <param name="learningRate">AdamW learning rate, positive and finite (default 3e-3, for models of a few hundred thousand weights).</param>
    /// <param name="weightDecay">AdamW decoupled weight decay, at least 0 (default 0.01).</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of its range.</exception>
    public LlamaDecoderTrainer(LlamaDecoder model, double learningRate = 3e-3, double weightDecay = 0.01)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(weightDecay), weightDecay, "must be finite and at least 0");
        }

        _model = model;
        _optimizer = new HeldScalarAdamW(model.parameters(), learningRate, weightDecay: weightDecay);
    }

    /// <summary>The number of optimisation steps taken.</summary>
    public long Steps { get; private set; }

    /// <summary>One optimisation step.</summary>
    /// <param name="windows">Token windows <c>[B, T + 1]</c>, int64, <c>T ≤ MaxSequenceLength</c>, ids in <c>[0, V)</c>.</param>
    /// <returns>The batch's mean cross-entropy before the update, in nats per token.</returns>
    /// <exception cref="ArgumentException"><paramref name="windows"/> has the wrong type or shape.</exception>
    public double Step(Tensor windows)
    {
        Validate(windows);
        _model.train();
        using var scope = NewDisposeScope();
        Tensor loss = Loss(windows);
        _optimizer.ZeroGrad();
        loss.backward();
        _optimizer.Step();
        Steps++;
        return loss.item<float>();
    }

    /// <summary>The mean cross-entropy on a batch, without updating the model (evaluation mode, no gradients).</summary>
    /// <param name="windows">Token windows <c>[B, T + 1]</c>, as for <see cref="Step"/>.</param>
    /// <returns>The mean cross-entropy in nats per token.</returns>
    /// <exception cref="ArgumentException"><paramref name="windows"/> has the wrong type or shape.</exception>
    public double Evaluate(Tensor windows)
    {
        Validate(windows);
        using var evaluation = new EvaluationScope(_model);
        using var scope = NewDisposeScope();
        return Loss(windows).item<float>();
    }

    /// <inheritdoc />
    public void Dispose() => _optimizer.Dispose();

    private Tensor Loss(Tensor windows)
    {
        long t = windows.shape[1] - 1;
        Tensor input = windows.narrow(1, 0, t);
        Tensor target = windows.narrow(1, 1, t);
        Tensor logits = _model.forward(input);
        return functional.cross_entropy(logits.reshape(-1, _model.VocabSize), target.reshape(-1));
    }

    private void Validate(Tensor windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (windows.dtype != ScalarType.Int64 || windows.Dimensions != 2 || windows.shape[0] < 1 || windows.shape[1] < 2 || windows.shape[1] > _model.MaxSequenceLength + 1)
        {
            ThrowHelper.ThrowArgument(nameof(windows), $"is {windows.dtype} [{string.Join(", ", windows.shape)}] but Int64 [B ≥ 1, 2 ≤ T + 1 ≤ {_model.MaxSequenceLength + 1}] is required.");
        }
    }
}

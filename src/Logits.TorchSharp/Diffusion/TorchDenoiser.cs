using Logits.Diffusion;
using Logits.TorchSharp.Models;

namespace Logits.TorchSharp.Diffusion;

/// <summary>Adapts a <see cref="MaskedTokenTransformer"/> to <see cref="ITimeIndependentDenoiser"/> so the library samplers can run it.</summary>
/// <remarks>Each call runs the model in evaluation mode without gradients and returns a <see cref="TorchLogitBatch"/> on the model's device.</remarks>
public sealed class TorchDenoiser : ITimeIndependentDenoiser
{
    private readonly MaskedTokenTransformer _model;
    private readonly Device _device;

    /// <summary>Wraps a model.</summary>
    /// <param name="model">The transformer; the adapter switches it to evaluation mode on each call and restores the mode.</param>
    /// <param name="device">The model's device; <see langword="null"/> means the CPU.</param>
    public TorchDenoiser(MaskedTokenTransformer model, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _device = device ?? CPU;
    }

    /// <inheritdoc />
    public int Vocabulary => _model.Vocabulary;

    /// <inheritdoc />
    public int MaskId => _model.MaskId;

    /// <inheritdoc />
    public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
    {
        int length = tokens.Length / sequences;
        var ids = new long[tokens.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = tokens[i];
        }

        using var evaluation = new EvaluationScope(_model);
        using var scope = NewDisposeScope();
        Tensor input = tensor(ids, new long[] { sequences, length }, device: _device);
        Tensor logProbabilities = _model.forward(input).reshape(tokens.Length, Vocabulary);
        var batch = new TorchLogitBatch(tokens.Length, Vocabulary, _device);
        batch.Tensor.copy_(logProbabilities);
        return batch;
    }
}

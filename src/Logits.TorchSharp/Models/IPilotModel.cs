
namespace Logits.TorchSharp.Models;

/// <summary>
/// A decoder-only language model that can serve as Transformer Copilot's Pilot: a teacher-forced forward
/// pass that returns the logits, the input representation (embedding output) and every layer's hidden states
///.
/// </summary>
public interface IPilotModel
{
    /// <summary>V, the vocabulary size: the length of every logit row.</summary>
    int VocabSize { get; }

    /// <summary>d_P, the width of the embedding output and of every layer's hidden states.</summary>
    int Width { get; }

    /// <summary>L_P, the number of layers whose outputs <see cref="PilotOutput.LayerStates"/> holds.</summary>
    int Layers { get; }

    /// <summary>The longest sequence the model accepts.</summary>
    int MaxSequenceLength { get; }

    /// <summary>Runs the model on a batch of token sequences under causal masking (position k sees positions ≤ k).</summary>
    /// <param name="tokens">Token ids <c>[B, T]</c>, int64, <c>1 ≤ T ≤ <see cref="MaxSequenceLength"/></c>; padding goes at the end of a row.</param>
    /// <returns>
    /// The logits <c>[B, T, V]</c> (position k predicts token k + 1), the embedding output <c>[B, T, d_P]</c> and
    /// one <c>[B, T, d_P]</c> tensor per layer. Tensors carry autograd history when gradients are enabled; the caller
    /// disposes the output.
    /// </returns>
    PilotOutput Forward(Tensor tokens);
}

/// <summary>The result of <see cref="IPilotModel.Forward"/>; disposing it disposes every tensor it holds.</summary>
public sealed class PilotOutput : IDisposable
{
    /// <summary>Wraps the three results of a Pilot forward pass (the instance takes ownership of them).</summary>
    /// <param name="logits">Logits <c>[B, T, V]</c>.</param>
    /// <param name="embeddings">The input representation <c>e</c>, <c>[B, T, d_P]</c>.</param>
    /// <param name="layerStates">The output of every layer, each <c>[B, T, d_P]</c>, first layer first.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="layerStates"/> is empty.</exception>
    public PilotOutput(Tensor logits, Tensor embeddings, IReadOnlyList<Tensor> layerStates)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(layerStates);
        if (layerStates.Count == 0)
        {
            throw new ArgumentException("A Pilot has at least one layer.", nameof(layerStates));
        }

        Logits = logits;
        Embeddings = embeddings;
        LayerStates = layerStates;
    }

    /// <summary>Logits <c>[B, T, V]</c>; position k predicts token k + 1.</summary>
    public Tensor Logits { get; }

    /// <summary>The input representation <c>e</c> (embedding output, positions included), <c>[B, T, d_P]</c>.</summary>
    public Tensor Embeddings { get; }

    /// <summary>The output of every layer <c>h_{·,l}</c>, each <c>[B, T, d_P]</c>, first layer first.</summary>
    public IReadOnlyList<Tensor> LayerStates { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Logits.Dispose();
        Embeddings.Dispose();
        foreach (var state in LayerStates)
        {
            state.Dispose();
        }
    }
}

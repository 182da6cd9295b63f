
namespace Logits.Diffusion;

/// <summary>A masked-token predictor (LLaDA, DCoLT): raw logits over the full vocabulary row for every position of a batch.</summary>
/// <remarks>
/// The mask id lies inside the row (LLaDA: 126336); the samplers set its column to −∞ before any draw or confidence
/// (library decision, docs/algorithms/discrete-diffusion.md#time-and-tokens). NaN or +∞ in the output is an error.
/// </remarks>
public interface IMaskPredictor
{
    /// <summary>The logit row width (vocabulary size including the mask column).</summary>
    int RowWidth { get; }

    /// <summary>The mask token id, in <c>[0, RowWidth)</c>.</summary>
    int MaskId { get; }

    /// <summary>Evaluates the model on a batch of sequences.</summary>
    /// <param name="tokens"><c>sequences × L</c> ids, row-major.</param>
    /// <param name="sequences">The number of sequences; <c>L = tokens.Length / sequences</c>.</param>
    /// <returns>A new batch of <c>sequences·L</c> rows and <see cref="RowWidth"/> columns; the caller disposes it.</returns>
    LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences);
}

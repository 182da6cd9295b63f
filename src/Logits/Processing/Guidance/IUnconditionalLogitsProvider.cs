
namespace Logits.Processing.Guidance;

/// <summary>
/// Supplies the unconditional (negative or empty prompt) next-token logits that classifier-free guidance
/// contrasts with the conditional ones.
/// </summary>
/// <remarks>
/// The caller runs its model on the negative or empty prompt with its own KV cache; the library holds no
/// model. The destination is created by the processor with <see cref="LogitBatch.CreateLike"/>, so it has
/// the conditional batch's shape, backend and device: a torch model can copy its output tensor in, a CPU
/// model can call <see cref="LogitBatch.CopyFrom"/>. Values must be finite or <c>-∞</c>.
/// </remarks>
public interface IUnconditionalLogitsProvider
{
    /// <summary>Writes the unconditional logits of every row into <paramref name="destination"/>.</summary>
    /// <param name="contexts">One context per row, the same the processor was given.</param>
    /// <param name="destination">A zero-filled batch of the conditional batch's shape and backend.</param>
    void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination);
}

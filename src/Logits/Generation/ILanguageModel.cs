
namespace Logits.Generation;

/// <summary>A model that gives next-token logits for a batch of token contexts.</summary>
/// <remarks>
/// The model chooses the backend: it creates the batches it fills (a CPU model returns
/// <see cref="CpuLogitBatch"/>, a TorchSharp model a torch batch), and the pipeline's kernels follow.
/// </remarks>
public interface ILanguageModel
{
    /// <summary>The vocabulary size: the length of every logit row.</summary>
    int VocabSize { get; }

    /// <summary>Creates a batch of <paramref name="rows"/> rows that <see cref="NextTokenLogits"/> can fill.</summary>
    /// <param name="rows">At least 1.</param>
    /// <returns>A batch the caller owns and disposes.</returns>
    LogitBatch CreateLogitBatch(int rows);

    /// <summary>Writes the next-token logits of each context into the matching row of <paramref name="destination"/>.</summary>
    /// <param name="contexts">One token sequence per row (prompt followed by generated tokens).</param>
    /// <param name="destination">A batch from <see cref="CreateLogitBatch"/> with one row per context.</param>
    void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination);
}

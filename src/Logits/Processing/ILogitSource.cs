
namespace Logits.Processing;

/// <summary>
/// Another model's next-token logits, supplied each step to a processor that combines several models
/// (classifier-free guidance, STEER, Copilot rectification).
/// </summary>
/// <remarks>
/// The processor creates <c>destination</c> with <see cref="LogitBatch.CreateLike"/> from the batch it
/// processes, so the source fills a batch of the same shape, backend and device. The source decides which
/// tokens it conditions on (for example an expert model on a negative prompt followed by the row's
/// generated tokens).
/// </remarks>
public interface ILogitSource
{
    /// <summary>Writes this source's next-token logits for every row into <paramref name="destination"/>.</summary>
    /// <param name="contexts">One context per row: the history being generated.</param>
    /// <param name="destination">A batch with one row per context, on the processed batch's backend.</param>
    void FillLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination);
}

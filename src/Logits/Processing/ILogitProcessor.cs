
namespace Logits.Processing;

/// <summary>
/// A step of a sampling pipeline that rewrites every row of a logit batch in place (it never selects).
/// </summary>
/// <remarks>
/// Processors are immutable, validated definitions unless they implement <see cref="IStatefulSampler"/>.
/// They call the batch's kernels and never ask which backend holds it. <c>-∞</c> marks removed tokens;
/// rows that are all <c>-∞</c> pass through unchanged (the selector raises). See docs/algorithms/conventions.md.
/// </remarks>
public interface ILogitProcessor
{
    /// <summary>A short, stable name, used as the stage in errors (e.g. <c>"top-p"</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Whether the processor can never change the greedy choice, so a greedy pipeline may skip it
    /// (docs/algorithms/conventions.md#shared-rules).
    /// </summary>
    bool IsArgmaxInvariant { get; }

    /// <summary>Rewrites every row of <paramref name="logits"/> in place.</summary>
    /// <param name="logits">The batch; rows may hold <c>-∞</c>, never NaN or <c>+∞</c>.</param>
    /// <param name="contexts">One context per row, indexed by row.</param>
    void Process(LogitBatch logits, IReadOnlyList<SamplingContext> contexts);
}

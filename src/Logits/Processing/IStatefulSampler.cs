namespace Logits.Processing;

/// <summary>
/// A processor or selector with per-row state (an RNG position, mirostat's μ, count caches): the
/// accept / reset / clone hooks (docs/algorithms/conventions.md#stateful-steps).
/// </summary>
/// <remarks>Stateful instances are not shared between pipelines or threads; <see cref="Clone"/> gives each its own.</remarks>
public interface IStatefulSampler
{
    /// <summary>Tells the sampler that <paramref name="token"/> was committed for <paramref name="row"/>.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="token">The committed token id.</param>
    void Accept(int row, int token);

    /// <summary>Returns to the construction state (RNG streams reseeded with the original seed).</summary>
    void Reset();

    /// <summary>A deep copy of the current state; the copy and the source then evolve independently.</summary>
    /// <returns>The copy.</returns>
    IStatefulSampler Clone();
}

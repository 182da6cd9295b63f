namespace Logits.Randomness;

/// <summary>A stream of random 64-bit words, with the uniform forms the selectors use.</summary>
/// <remarks>
/// Selectors and stochastic processors draw from one stream per row, so a seeded run gives the same
/// tokens whatever the thread count or batch split (docs/algorithms/selection.md#random-streams). Implementations are not
/// thread-safe: a stream belongs to one row.
/// </remarks>
public interface IRandomSource
{
    /// <summary>The next 64 random bits.</summary>
    /// <returns>A uniformly distributed 64-bit word.</returns>
    ulong NextUInt64();

    /// <summary>A deep copy at the current position; the copy and the source then advance independently.</summary>
    /// <returns>The copy.</returns>
    IRandomSource Clone();
}

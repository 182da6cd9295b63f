
namespace Logits.Randomness;

/// <summary>The uniform forms of docs/algorithms/selection.md#random-streams, built on <see cref="IRandomSource.NextUInt64"/>.</summary>
public static class RandomSourceExtensions
{
    private const double TwoToMinus53 = 1.0 / (1UL << 53);

    /// <summary>A uniform double in <c>[0, 1)</c>: <c>(x &gt;&gt; 11) · 2⁻⁵³</c>.</summary>
    /// <param name="source">The stream.</param>
    /// <returns>A value in <c>[0, 1)</c>.</returns>
    public static double NextDouble(this IRandomSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return (source.NextUInt64() >> 11) * TwoToMinus53;
    }

    /// <summary>A uniform double in the open interval <c>(0, 1)</c>: <c>((x &gt;&gt; 11) + 0.5) · 2⁻⁵³</c>.</summary>
    /// <param name="source">The stream.</param>
    /// <returns>A value in <c>(0, 1)</c>, safe for <c>ln</c>.</returns>
    public static double NextOpenDouble(this IRandomSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return ((source.NextUInt64() >> 11) + 0.5) * TwoToMinus53;
    }
}

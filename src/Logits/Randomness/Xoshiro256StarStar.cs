using System.Numerics;

namespace Logits.Randomness;

/// <summary>
/// xoshiro256** (Blackman and Vigna, 2018), seeded with the first four outputs of <see cref="SplitMix64"/>:
/// the library's row stream (docs/algorithms/selection.md#random-streams).
/// </summary>
/// <remarks>Not thread-safe; one instance per row. Seed 42 gives <c>15780b2e0c2ec716</c> first.</remarks>
public sealed class Xoshiro256StarStar : IRandomSource
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Seeds the stream: the state words are SplitMix64(<paramref name="seed"/>)'s first four outputs.</summary>
    /// <param name="seed">Any 64-bit value; row <c>r</c> of a batch seeded <c>S</c> uses <c>S + r</c>.</param>
    public Xoshiro256StarStar(ulong seed)
    {
        var expander = new SplitMix64(seed);
        _s0 = expander.Next();
        _s1 = expander.Next();
        _s2 = expander.Next();
        _s3 = expander.Next();
    }

    private Xoshiro256StarStar(Xoshiro256StarStar source)
    {
        _s0 = source._s0;
        _s1 = source._s1;
        _s2 = source._s2;
        _s3 = source._s3;
    }

    /// <summary>The stream of row <paramref name="row"/> for batch seed <paramref name="seed"/>: seed <c>S + r</c>, wrapping.</summary>
    /// <param name="seed">The batch seed.</param>
    /// <param name="row">The row index.</param>
    /// <returns>A new stream.</returns>
    public static Xoshiro256StarStar ForRow(ulong seed, int row) => new(unchecked(seed + (ulong)row));

    /// <inheritdoc />
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <inheritdoc />
    public IRandomSource Clone() => new Xoshiro256StarStar(this);
}

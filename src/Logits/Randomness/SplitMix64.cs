namespace Logits.Randomness;

/// <summary>SplitMix64 (Steele, Lea and Flood, 2014), used to expand a seed into xoshiro state.</summary>
public struct SplitMix64
{
    private ulong _state;

    /// <summary>Starts the sequence at <paramref name="seed"/>.</summary>
    /// <param name="seed">Any 64-bit value.</param>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The next output.</summary>
    /// <returns>A 64-bit word.</returns>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

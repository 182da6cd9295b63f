namespace Logits.Distillation;

/// <summary>Whether the binary Dual-Head KD losses reproduce the official code's probability clamp (docs/algorithms/paper-methods.md#the-clamp-of-the-official-code; Dual-Head KD, arXiv 2411.08937).</summary>
public enum LogitClampMode
{
    /// <summary>No clamp (default): the exact <c>log cosh</c> / softplus forms, finite for every finite gap.</summary>
    None = 0,

    /// <summary>
    /// The official code clamps <c>σ(x)</c> to <c>[1e-8, 1 − 1e-8]</c>; evaluated in float64 that is the same as clamping
    /// <c>x</c> to <c>[−c, c]</c>, <c>c = ln((1 − 1e-8)/1e-8) ≈ 18.420681</c>. The library clamps <c>x</c>, which caps each
    /// BinaryKL-Norm term at 8.517193 with zero gradient beyond, in any precision (the float32 original gives +∞ instead).
    /// </summary>
    ReferenceClamp = 1,
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The CPU kernels' own vectorised <c>exp</c> for max-shifted logits (arguments ≤ 0), and the fused passes built
/// on it: <c>exp(x − m)</c> stored and summed in one read of the row, or only summed.
/// </summary>
/// <remarks>
/// <para>
/// Why not <c>TensorPrimitives.Exp</c>: in System.Numerics.Tensors 10.0 it evaluates float exp through double
/// precision, which made it the bottleneck of softmax (about 3/4 of its time at V = 128256, measured), and a
/// separate exp pass cannot be fused with the subtraction and the sum.
/// </para>
/// <para>
/// Method (Cephes <c>expf</c>, S. L. Moshier): <c>n = round(x·log₂e)</c> by the 1.5·2²³ rounding constant,
/// <c>r = x − n·ln 2</c> with ln 2 split in two parts (Cody–Waite) so <c>r</c> is exact, <c>e^r ≈ 1 + r + r²·P(r)</c>
/// with Cephes' degree-5 minimax polynomial on <c>|r| ≤ ln 2 / 2</c>, then <c>·2ⁿ</c> through the exponent bits.
/// Measured error against float64 <c>exp</c> over the whole domain: at most 2 ulp (test
/// <c>VectorExpTests</c>). Arguments below <see cref="Lowest"/> (results below the smallest normal float,
/// 1.2e-38) give exactly 0, and so does −∞; the contract's absolute floor for probabilities is 1e-30.
/// </para>
/// <para>
/// Every lane, and the scalar tail, performs the same float operations in the same order (the JIT does not
/// contract multiply-adds), so a value's exp is bit-identical whatever the vector width: AVX-512, AVX2 and
/// SSE machines compute the same probabilities element by element (issue 9's instruction-set determinism).
/// </para>
/// </remarks>
internal static class VectorExp
{
    /// <summary>Below this argument the result is 0 (exp(−87.33654) is the smallest normal float).</summary>
    public const float Lowest = -87.33654f;

    /// <summary><c>127 − bits(1.5·2²³)</c>: turns the rounded value's bits into the biased exponent of <c>2ⁿ</c>.</summary>
    private const int ExponentBias = 127 - 0x4B400000;

    private const float Log2E = 1.44269504088896341f;

    /// <summary>1.5 · 2²³: adding it rounds a float in (−2²², 2²²) to the nearest integer.</summary>
    private const float RoundingConstant = 12582912f;

    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    private const float P0 = 1.9875691500e-4f;
    private const float P1 = 1.3981999507e-3f;
    private const float P2 = 8.3334519073e-3f;
    private const float P3 = 4.1665795894e-2f;
    private const float P4 = 1.6666665459e-1f;
    private const float P5 = 5.0000001201e-1f;

    /// <summary><c>exp(x)</c> per lane for <c>x ≤ 88</c>; for <c>x ≤ 0</c> the result is in [0, 1], exactly 1 at 0.</summary>
    /// <remarks>
    /// Lanes below <see cref="Lowest"/> (−∞ included) compute garbage that the final select replaces with 0, so
    /// no clamp is needed. The rounding constant leaves <c>n</c> in the low mantissa bits of <c>shifted</c>, so
    /// <c>2ⁿ</c>'s bits are <c>(bits(shifted) − bits(1.5·2²³) + 127) &lt;&lt; 23</c>. One body for every width: on
    /// AVX-512 hardware the 16-lane form needs half the instructions of the 8-lane one for the same work (measured: 39 µs
    /// instead of 51 µs for the exp and sum of a 128256-token row).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Exp<TWidth, TVector>(TVector x)
        where TWidth : IVectorWidth<TVector>
    {
        var underflow = TWidth.LessThan(x, TWidth.Create(Lowest));
        var shifted = TWidth.MultiplyAdd(x, TWidth.Create(Log2E), TWidth.Create(RoundingConstant));
        var n = TWidth.Subtract(shifted, TWidth.Create(RoundingConstant));
        var r = TWidth.MultiplyAdd(n, TWidth.Create(-Ln2High), x);
        r = TWidth.MultiplyAdd(n, TWidth.Create(-Ln2Low), r);
        var p = TWidth.MultiplyAdd(TWidth.Create(P0), r, TWidth.Create(P1));
        p = TWidth.MultiplyAdd(p, r, TWidth.Create(P2));
        p = TWidth.MultiplyAdd(p, r, TWidth.Create(P3));
        p = TWidth.MultiplyAdd(p, r, TWidth.Create(P4));
        p = TWidth.MultiplyAdd(p, r, TWidth.Create(P5));
        var y = TWidth.Add(TWidth.MultiplyAdd(p, TWidth.Multiply(r, r), r), TWidth.Create(1f));
        var result = TWidth.Multiply(y, TWidth.ShiftIntoExponent(shifted, ExponentBias));
        return TWidth.ConditionalSelect(underflow, TWidth.Create(0f), result);
    }

    /// <summary>The scalar form of <see cref="Exp{TWidth, TVector}"/>: the same operations, so the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (!(x >= Lowest))
        {
            return 0f;
        }

        float shifted = MultiplyAdd(x, Log2E, RoundingConstant);
        float n = shifted - RoundingConstant;
        float r = MultiplyAdd(n, -Ln2High, x);
        r = MultiplyAdd(n, -Ln2Low, r);
        float p = MultiplyAdd(P0, r, P1);
        p = MultiplyAdd(p, r, P2);
        p = MultiplyAdd(p, r, P3);
        p = MultiplyAdd(p, r, P4);
        p = MultiplyAdd(p, r, P5);
        float y = MultiplyAdd(p, r * r, r) + 1f;
        return y * BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(shifted) + ExponentBias) << 23);
    }

    /// <summary>
    /// <c>a·b + c</c>: fused (one rounding) on .NET 9 and later, where the vector widths' <c>FusedMultiplyAdd</c> use the
    /// FMA instruction or an exactly rounded software fallback, so every machine gets the same bits; on .NET 8 a
    /// multiply and an add (the same bits on every machine too, different from the fused form by ≤ 1 ulp).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MultiplyAdd(float a, float b, float c)
    {
#if NET9_0_OR_GREATER
        return MathF.FusedMultiplyAdd(a, b, c);
#else
        return (a * b) + c;
#endif
    }

    /// <summary>
    /// <c>destination[i] = exp(x[i] − m)</c> for every i, and returns <c>Σ_i destination[i]</c>: float32 lane sums
    /// flushed into a float64 total every 1024 elements. <paramref name="destination"/> may be <paramref name="x"/>.
    /// </summary>
    /// <param name="x">The row; entries ≤ <paramref name="m"/> (−∞ allowed, NaN not).</param>
    /// <param name="m">The shift, usually the row maximum.</param>
    /// <param name="destination">At least as long as <paramref name="x"/>.</param>
    public static double ExpShiftedSum(ReadOnlySpan<float> x, float m, Span<float> destination) =>
        SimdLoops.MapSum<ExpShiftedOperator>(x, m, destination[..x.Length]);

    /// <summary><c>Σ_i exp(x[i] − m)</c> without storing the terms; the same sum as <see cref="ExpShiftedSum(ReadOnlySpan{float}, float, Span{float})"/>.</summary>
    /// <param name="x">The row; entries ≤ <paramref name="m"/> (−∞ allowed, NaN not).</param>
    /// <param name="m">The shift, usually the row maximum.</param>
    public static double ExpShiftedSum(ReadOnlySpan<float> x, float m) => SimdLoops.MapSum<ExpShiftedOperator>(x, m, Span<float>.Empty);

    /// <summary><c>exp(x − m)</c>.</summary>
    private readonly struct ExpShiftedOperator : IBinaryOperator
    {
        public static float Invoke(float x, float m) => Exp(x - m);

        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> m) => Exp<VectorWidth128, Vector128<float>>(x - m);

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> m) => Exp<VectorWidth256, Vector256<float>>(x - m);

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> m) => Exp<VectorWidth512, Vector512<float>>(x - m);
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
#if NET9_0_OR_GREATER
using System.Runtime.Intrinsics;
#endif

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

    /// <summary>Elements whose float32 lane sums are flushed into the float64 total at a time.</summary>
    private const int FlushLength = 1024;

    /// <summary><c>exp(x)</c> per lane for <c>x ≤ 88</c>; for <c>x ≤ 0</c> the result is in [0, 1], exactly 1 at 0.</summary>
    /// <remarks>
    /// Lanes below <see cref="Lowest"/> (−∞ included) compute garbage that the final select replaces with 0, so
    /// no clamp is needed. The rounding constant leaves <c>n</c> in the low mantissa bits of <c>shifted</c>, so
    /// <c>2ⁿ</c>'s bits are <c>(bits(shifted) − bits(1.5·2²³) + 127) &lt;&lt; 23</c>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var underflow = Vector.LessThan(x, new Vector<float>(Lowest));
        var shifted = MultiplyAdd(x, new Vector<float>(Log2E), new Vector<float>(RoundingConstant));
        var n = shifted - new Vector<float>(RoundingConstant);
        var r = MultiplyAdd(n, new Vector<float>(-Ln2High), x);
        r = MultiplyAdd(n, new Vector<float>(-Ln2Low), r);
        var p = MultiplyAdd(new Vector<float>(P0), r, new Vector<float>(P1));
        p = MultiplyAdd(p, r, new Vector<float>(P2));
        p = MultiplyAdd(p, r, new Vector<float>(P3));
        p = MultiplyAdd(p, r, new Vector<float>(P4));
        p = MultiplyAdd(p, r, new Vector<float>(P5));
        var y = MultiplyAdd(p, r * r, r) + Vector<float>.One;
        var exponent = Vector.ShiftLeft(Vector.AsVectorInt32(shifted) + new Vector<int>(ExponentBias), 23);
        var result = y * Vector.AsVectorSingle(exponent);
        return Vector.ConditionalSelect(underflow, Vector<float>.Zero, result);
    }

    /// <summary>The scalar form of <see cref="Exp(Vector{float})"/>: the same operations, so the same bits.</summary>
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
    /// <c>a·b + c</c>: fused (one rounding) on .NET 9 and later, where <c>Vector.FusedMultiplyAdd</c> uses the
    /// FMA instruction or an exactly rounded software fallback, so every machine gets the same bits; on .NET 8 a
    /// multiply and an add (the same bits on every machine too, different from the fused form by ≤ 1 ulp).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> MultiplyAdd(Vector<float> a, Vector<float> b, Vector<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector.FusedMultiplyAdd(a, b, c);
#else
        return (a * b) + c;
#endif
    }

    /// <summary>The scalar form of <see cref="MultiplyAdd(Vector{float}, Vector{float}, Vector{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MultiplyAdd(float a, float b, float c)
    {
#if NET9_0_OR_GREATER
        return MathF.FusedMultiplyAdd(a, b, c);
#else
        return (a * b) + c;
#endif
    }

#if NET9_0_OR_GREATER
    /// <summary>
    /// <see cref="Exp(Vector{float})"/> on 16 lanes: the same operations lane by lane (so the same bits per element).
    /// On AVX-512 hardware it needs half the instructions of the 8-lane form for the same work (measured: 39 µs
    /// instead of 51 µs for the exp and sum of a 128256-token row); <c>Vector&lt;T&gt;</c> stays 256 bits wide there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var underflow = Vector512.LessThan(x, Vector512.Create(Lowest));
        var shifted = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(RoundingConstant));
        var n = shifted - Vector512.Create(RoundingConstant);
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2High), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Low), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        var exponent = Vector512.ShiftLeft(shifted.AsInt32() + Vector512.Create(ExponentBias), 23);
        return Vector512.ConditionalSelect(underflow, Vector512<float>.Zero, y * exponent.AsSingle());
    }

    /// <summary>The 16-lane main loop of both <c>ExpShiftedSum</c> forms (storing or not); returns the number of elements done.</summary>
    private static int ExpShiftedSum512(ReadOnlySpan<float> x, float m, Span<float> destination, bool store, ref double total)
    {
        var xv = MemoryMarshal.Cast<float, Vector512<float>>(x);
        var dv = MemoryMarshal.Cast<float, Vector512<float>>(destination);
        var shift = Vector512.Create(m);
        int perFlush = FlushLength / Vector512<float>.Count;
        for (int block = 0; block < xv.Length; block += perFlush)
        {
            int end = Math.Min(block + perFlush, xv.Length);
            var sum0 = Vector512<float>.Zero;
            var sum1 = Vector512<float>.Zero;
            int k = block;
            for (; k + 1 < end; k += 2)
            {
                var e0 = Exp(xv[k] - shift);
                var e1 = Exp(xv[k + 1] - shift);
                if (store)
                {
                    dv[k] = e0;
                    dv[k + 1] = e1;
                }

                sum0 += e0;
                sum1 += e1;
            }

            if (k < end)
            {
                var e = Exp(xv[k] - shift);
                if (store)
                {
                    dv[k] = e;
                }

                sum0 += e;
            }

            total += Vector512.Sum(sum0 + sum1);
        }

        return xv.Length * Vector512<float>.Count;
    }
#endif

    /// <summary>
    /// <c>destination[i] = exp(x[i] − m)</c> for every i, and returns <c>Σ_i destination[i]</c>: float32 lane sums
    /// flushed into a float64 total every 1024 elements. <paramref name="destination"/> may be <paramref name="x"/>.
    /// </summary>
    /// <param name="x">The row; entries ≤ <paramref name="m"/> (−∞ allowed, NaN not).</param>
    /// <param name="m">The shift, usually the row maximum.</param>
    /// <param name="destination">At least as long as <paramref name="x"/>.</param>
    public static double ExpShiftedSum(ReadOnlySpan<float> x, float m, Span<float> destination) =>
        ExpShiftedSum(x, m, destination[..x.Length], store: true);

    /// <summary><c>Σ_i exp(x[i] − m)</c> without storing the terms; the same sum as <see cref="ExpShiftedSum(ReadOnlySpan{float}, float, Span{float})"/>.</summary>
    /// <param name="x">The row; entries ≤ <paramref name="m"/> (−∞ allowed, NaN not).</param>
    /// <param name="m">The shift, usually the row maximum.</param>
    public static double ExpShiftedSum(ReadOnlySpan<float> x, float m) => ExpShiftedSum(x, m, Span<float>.Empty, store: false);

    /// <summary>
    /// Both forms in one loop: the same operations in the same order whether or not the terms are stored, so the
    /// two return the same sum (sampling relies on it). The branch on <paramref name="store"/> is perfectly predicted.
    /// </summary>
    private static double ExpShiftedSum(ReadOnlySpan<float> x, float m, Span<float> destination, bool store)
    {
        double total = 0;
        int start = 0;
#if NET9_0_OR_GREATER
        if (Vector512.IsHardwareAccelerated && x.Length >= Vector512<float>.Count)
        {
            start = ExpShiftedSum512(x, m, destination, store, ref total);
        }
        else
#endif
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var shift = new Vector<float>(m);
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(destination);
            int perFlush = FlushLength / Vector<float>.Count;
            for (int block = 0; block < xv.Length; block += perFlush)
            {
                int end = Math.Min(block + perFlush, xv.Length);
                var sum0 = Vector<float>.Zero;
                var sum1 = Vector<float>.Zero;
                int k = block;
                for (; k + 1 < end; k += 2)
                {
                    var e0 = Exp(xv[k] - shift);
                    var e1 = Exp(xv[k + 1] - shift);
                    if (store)
                    {
                        dv[k] = e0;
                        dv[k + 1] = e1;
                    }

                    sum0 += e0;
                    sum1 += e1;
                }

                if (k < end)
                {
                    var e = Exp(xv[k] - shift);
                    if (store)
                    {
                        dv[k] = e;
                    }

                    sum0 += e;
                }

                total += Vector.Sum(sum0 + sum1);
            }

            start = xv.Length * Vector<float>.Count;
        }

        float tail = 0;
        for (int i = start; i < x.Length; i++)
        {
            float e = Exp(x[i] - m);
            if (store)
            {
                destination[i] = e;
            }

            tail += e;
        }

        return total + tail;
    }
}

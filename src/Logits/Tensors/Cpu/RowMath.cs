using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Logits.Tensors.Cpu;

/// <summary>Row-level building blocks shared by the CPU kernels: checked reductions and the stable exp sums.</summary>
internal static class RowMath
{
    /// <summary>Elements per stack chunk when exp values are needed only transiently (4 KiB of stack).</summary>
    private const int ChunkLength = 1024;

    /// <summary>
    /// The row maximum, after checking that no entry is NaN or +∞ (one pass: four independent max accumulators and
    /// a validity mask; a second scan runs only on failure, to name the token). May return -∞.
    /// </summary>
    /// <remarks>
    /// Own loop rather than <c>TensorPrimitives.Max</c>: that one propagates NaN through one dependent chain, which
    /// made it about 3× slower than this on a 128256-token row (measured); NaN is an error here anyway.
    /// </remarks>
    public static float CheckedMax(ReadOnlySpan<float> x, int row)
    {
        float m = float.NegativeInfinity;
        bool invalid = false;
        int start = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= 4 * Vector<float>.Count)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var limit = new Vector<float>(float.PositiveInfinity);
            var m0 = new Vector<float>(float.NegativeInfinity);
            var m1 = m0;
            var m2 = m0;
            var m3 = m0;
            var valid = Vector<int>.AllBitsSet;
            int k = 0;
            for (; k + 3 < xv.Length; k += 4)
            {
                var a = xv[k];
                var b = xv[k + 1];
                var c = xv[k + 2];
                var d = xv[k + 3];
                m0 = Vector.Max(m0, a);
                m1 = Vector.Max(m1, b);
                m2 = Vector.Max(m2, c);
                m3 = Vector.Max(m3, d);
                valid &= Vector.LessThan(a, limit) & Vector.LessThan(b, limit) & Vector.LessThan(c, limit) & Vector.LessThan(d, limit);
            }

            for (; k < xv.Length; k++)
            {
                m0 = Vector.Max(m0, xv[k]);
                valid &= Vector.LessThan(xv[k], limit);
            }

            invalid = !Vector.EqualsAll(valid, Vector<int>.AllBitsSet);
            var lanes = Vector.Max(Vector.Max(m0, m1), Vector.Max(m2, m3));
            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                m = MathF.Max(m, lanes[lane]);
            }

            start = xv.Length * Vector<float>.Count;
        }

        for (int i = start; i < x.Length; i++)
        {
            float v = x[i];
            invalid |= IsInvalid(v);
            if (v > m)
            {
                m = v;
            }
        }

        if (invalid)
        {
            ThrowFirstInvalid(x, row, "input");
        }

        return m;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> and returns its maximum, checking that no
    /// entry is NaN or +∞, in one pass (the copy and <see cref="CheckedMax"/> fused). On an invalid entry the
    /// destination holds the copy and <see cref="InvalidLogitsException"/> names the first invalid token (stage
    /// <c>"input"</c>).
    /// </summary>
    public static float CopyCheckedMax(ReadOnlySpan<float> source, Span<float> destination, int row)
    {
        float m = float.NegativeInfinity;
        bool invalid = false;
        int start = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= 4 * Vector<float>.Count)
        {
            var sv = MemoryMarshal.Cast<float, Vector<float>>(source);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(destination);
            var limit = new Vector<float>(float.PositiveInfinity);
            var m0 = new Vector<float>(float.NegativeInfinity);
            var m1 = m0;
            var valid = Vector<int>.AllBitsSet;
            int k = 0;
            for (; k + 1 < sv.Length; k += 2)
            {
                var a = sv[k];
                var b = sv[k + 1];
                dv[k] = a;
                dv[k + 1] = b;
                m0 = Vector.Max(m0, a);
                m1 = Vector.Max(m1, b);
                valid &= Vector.LessThan(a, limit) & Vector.LessThan(b, limit);
            }

            for (; k < sv.Length; k++)
            {
                dv[k] = sv[k];
                m0 = Vector.Max(m0, sv[k]);
                valid &= Vector.LessThan(sv[k], limit);
            }

            invalid = !Vector.EqualsAll(valid, Vector<int>.AllBitsSet);
            var lanes = Vector.Max(m0, m1);
            for (int lane = 0; lane < Vector<float>.Count; lane++)
            {
                m = MathF.Max(m, lanes[lane]);
            }

            start = sv.Length * Vector<float>.Count;
        }

        for (int i = start; i < source.Length; i++)
        {
            float v = source[i];
            destination[i] = v;
            invalid |= IsInvalid(v);
            if (v > m)
            {
                m = v;
            }
        }

        if (invalid)
        {
            ThrowFirstInvalid(source, row, "input");
        }

        return m;
    }

    /// <summary><c>x[i] *= factor</c> for every i.</summary>
    public static void ScaleInPlace(Span<float> x, float factor)
    {
        int start = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var f = new Vector<float>(factor);
            for (int k = 0; k < xv.Length; k++)
            {
                xv[k] *= f;
            }

            start = xv.Length * Vector<float>.Count;
        }

        for (int i = start; i < x.Length; i++)
        {
            x[i] *= factor;
        }
    }

    /// <summary><see cref="CheckedMax"/>, and a <see cref="NoViableTokenException"/> for an all -∞ row.</summary>
    public static float NonEmptyMax(ReadOnlySpan<float> x, int row, string stage)
    {
        float m = CheckedMax(x, row);
        if (float.IsNegativeInfinity(m))
        {
            ThrowHelper.ThrowNoViableToken(row, stage);
        }

        return m;
    }

    /// <summary><c>Σ exp(x_i - m)</c> in one read of the row (<see cref="VectorExp"/>); exp(-∞) contributes 0.</summary>
    public static double SumExpShifted(ReadOnlySpan<float> x, float m) => VectorExp.ExpShiftedSum(x, m);

    /// <summary>Whether any lane is NaN or +∞ (<c>!(v &lt; +∞)</c> is true exactly for those).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AnyInvalid(Vector<float> v) =>
        !Vector.LessThanAll(v, new Vector<float>(float.PositiveInfinity));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsInvalid(float v) => !(v < float.PositiveInfinity);

    /// <summary>Throws for the first NaN or +∞ of <paramref name="x"/>; returns if there is none.</summary>
    /// <param name="x">The values to scan.</param>
    /// <param name="row">The row index to report.</param>
    /// <param name="stage">The stage to report.</param>
    /// <param name="offset">The token index of <c>x[0]</c> within its row.</param>
    public static void ThrowFirstInvalid(ReadOnlySpan<float> x, int row, string stage, int offset = 0)
    {
        for (int i = 0; i < x.Length; i++)
        {
            if (IsInvalid(x[i]))
            {
                ThrowHelper.ThrowInvalidLogits(row, offset + i, x[i], stage);
            }
        }
    }
}

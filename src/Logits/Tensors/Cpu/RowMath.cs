using System;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Logits.Tensors.Cpu;

/// <summary>Row-level building blocks shared by the CPU kernels: checked reductions and the stable exp sums.</summary>
internal static class RowMath
{
    /// <summary>Elements per stack chunk when exp values are needed only transiently (4 KiB of stack).</summary>
    private const int ChunkLength = 1024;

    /// <summary>
    /// The row maximum, after checking that no entry is NaN or +∞ (both propagate into <c>Max</c>, so one
    /// pass detects them; a second scan runs only on failure, to name the token). May return -∞.
    /// </summary>
    public static float CheckedMax(ReadOnlySpan<float> x, int row)
    {
        float m = TensorPrimitives.Max(x);
        if (!(m < float.PositiveInfinity) && !float.IsNegativeInfinity(m))
        {
            ThrowFirstInvalid(x, row, "input");
        }

        return m;
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

    /// <summary><c>Σ exp(x_i - m)</c>, chunk sums accumulated in float64; exp(-∞) contributes 0.</summary>
    public static double SumExpShifted(ReadOnlySpan<float> x, float m)
    {
        Span<float> buffer = stackalloc float[ChunkLength];
        double sum = 0;
        for (int start = 0; start < x.Length; start += ChunkLength)
        {
            var chunk = x.Slice(start, Math.Min(ChunkLength, x.Length - start));
            var tmp = buffer[..chunk.Length];
            TensorPrimitives.Subtract(chunk, m, tmp);
            TensorPrimitives.Exp(tmp, tmp);
            sum += TensorPrimitives.Sum(tmp);
        }

        return sum;
    }

    /// <summary>
    /// <c>Σ x_i</c> as float32 SIMD sums of 1024-element chunks accumulated in float64: a plain float32
    /// sum of 262144 exp values drifts by ~1e-4 relative, this stays near 1e-7.
    /// </summary>
    public static double SumChunked(ReadOnlySpan<float> x)
    {
        double sum = 0;
        for (int start = 0; start < x.Length; start += ChunkLength)
        {
            sum += TensorPrimitives.Sum(x.Slice(start, Math.Min(ChunkLength, x.Length - start)));
        }

        return sum;
    }

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

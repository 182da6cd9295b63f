using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>Row-level building blocks shared by the CPU kernels: checked reductions and the stable exp sums.</summary>
internal static class RowMath
{
    /// <summary>Elements per stack chunk when exp values are needed only transiently (4 KiB of stack).</summary>
    private const int ChunkLength = 1024;

    /// <summary>
    /// The row maximum, after checking that no entry is NaN or +∞ (one pass, <see cref="SimdLoops.AggregateChecked{TOperator}(ReadOnlySpan{float}, Span{float}, int)"/>:
    /// four independent max accumulators and a validity mask; a second scan runs only on failure, to name the token).
    /// May return -∞.
    /// </summary>
    /// <remarks>
    /// Own loop rather than <c>TensorPrimitives.Max</c>: that one propagates NaN through one dependent chain, which
    /// made it about 3× slower than this on a 128256-token row (measured); NaN is an error here anyway. A zero maximum
    /// is +0 if the row holds a +0 (IEEE 754 <c>maximum</c>), whatever the vector width.
    /// </remarks>
    public static float CheckedMax(ReadOnlySpan<float> x, int row) => SimdLoops.AggregateChecked<MaxOperator>(x, Span<float>.Empty, row);

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/> and returns its maximum, checking that no
    /// entry is NaN or +∞, in one pass (the copy and <see cref="CheckedMax"/> fused). On an invalid entry the
    /// destination holds the copy and <see cref="InvalidLogitsException"/> names the first invalid token (stage
    /// <c>"input"</c>).
    /// </summary>
    public static float CopyCheckedMax(ReadOnlySpan<float> source, Span<float> destination, int row) =>
        SimdLoops.AggregateChecked<MaxOperator>(source, destination[..source.Length], row);

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

    /// <summary><c>max(x, y)</c>, IEEE 754 <c>maximum</c> (+0 above −0) in every form; the identity is −∞.</summary>
    internal readonly struct MaxOperator : IAggregationOperator
    {
        public static float IdentityValue => float.NegativeInfinity;

        public static float Invoke(float x, float y) => MathF.Max(x, y);

        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => Vector128.Max(x, y);

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    }
}

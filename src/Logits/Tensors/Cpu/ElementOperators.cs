using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// An element-wise operation <c>f(x, y)</c> at every width the <see cref="SimdLoops"/> drive: scalar, 128, 256 and
/// 512 bits (the shape of <c>TensorPrimitives</c>' operator structs). <c>y</c> is a per-call scalar, broadcast.
/// </summary>
/// <remarks>
/// Every form must perform the same float operations in the same order, so an element's result is the same bits
/// whatever width computed it: the loops choose the width by the machine and the row length, and a tail element is
/// computed by the scalar form.
/// </remarks>
internal interface IBinaryOperator
{
    static abstract float Invoke(float x, float y);

    static abstract Vector128<float> Invoke(Vector128<float> x, Vector128<float> y);

    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);

    static abstract Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// An associative and commutative <see cref="IBinaryOperator"/> with an identity, so a reduction may combine the
/// elements in any grouping (lanes, independent accumulators, a scalar tail) and get the same value.
/// </summary>
internal interface IAggregationOperator : IBinaryOperator
{
    /// <summary>The value <c>e</c> with <c>f(e, x) = x</c> for every valid <c>x</c>.</summary>
    static abstract float IdentityValue { get; }
}

/// <summary><c>x · y</c>.</summary>
internal readonly struct MultiplyOperator : IBinaryOperator
{
    public static float Invoke(float x, float y) => x * y;

    public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) => x * y;

    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x * y;

    public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x * y;
}

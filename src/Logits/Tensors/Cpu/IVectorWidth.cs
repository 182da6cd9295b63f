using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The few vector operations that <see cref="SimdLoops"/> and <see cref="VectorExp"/> need, at one width, so each
/// loop is written once, generic over the width, and instantiated for 128, 256 and 512 bits (the JIT compiles one
/// specialised copy per width; the one-line members are inlined by their size, the larger ones are marked).
/// </summary>
/// <remarks>
/// <see cref="Load"/> and <see cref="Store"/> do not check bounds: the loops read and write only full vectors that
/// lie inside spans whose lengths they checked.
/// </remarks>
/// <typeparam name="TVector">The vector of floats of this width.</typeparam>
internal interface IVectorWidth<TVector>
{
    static abstract bool IsHardwareAccelerated { get; }

    static abstract int Count { get; }

    static abstract TVector AllBitsSet { get; }

    static abstract TVector Create(float value);

    static abstract TVector Load(ReadOnlySpan<float> source, int index);

    static abstract void Store(TVector value, Span<float> destination, int index);

    /// <summary>The operator applied across the lanes (halves first), for an associative and commutative operator.</summary>
    static abstract float Reduce<TOperator>(TVector value)
        where TOperator : IBinaryOperator;

    /// <summary>The operator's form of this width.</summary>
    static abstract TVector Invoke<TOperator>(TVector x, TVector y)
        where TOperator : IBinaryOperator;

    static abstract TVector Add(TVector x, TVector y);

    static abstract TVector Subtract(TVector x, TVector y);

    static abstract TVector Multiply(TVector x, TVector y);

    /// <summary><c>a·b + c</c>, fused (one rounding) from .NET 9 on, a multiply and an add on .NET 8.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector LessThan(TVector x, TVector y);

    static abstract TVector GreaterThan(TVector x, TVector y);

    /// <summary>One bit per lane, the sign bit of each (lane 0 in bit 0): the lanes of a comparison mask that compared true.</summary>
    static abstract ulong ExtractMostSignificantBits(TVector mask);

    static abstract TVector And(TVector x, TVector y);

    static abstract TVector Or(TVector x, TVector y);

    /// <summary>Whether every bit of a comparison mask is set (every lane compared true).</summary>
    static abstract bool AllTrue(TVector mask);

    static abstract TVector ConditionalSelect(TVector mask, TVector whenTrue, TVector whenFalse);

    static abstract float Sum(TVector value);

    /// <summary>Per lane, the float whose bits are <c>(bits(x) + bias) &lt;&lt; 23</c> (a power of two built in the exponent field).</summary>
    static abstract TVector ShiftIntoExponent(TVector x, int bias);
}

/// <summary><see cref="IVectorWidth{TVector}"/> for <see cref="Vector128{T}"/>.</summary>
internal readonly struct VectorWidth128 : IVectorWidth<Vector128<float>>
{
    public static bool IsHardwareAccelerated => Vector128.IsHardwareAccelerated;

    public static int Count => Vector128<float>.Count;

    public static Vector128<float> AllBitsSet => Vector128<float>.AllBitsSet;

    public static Vector128<float> Create(float value) => Vector128.Create(value);

    public static Vector128<float> Load(ReadOnlySpan<float> source, int index) => Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)index);

    public static void Store(Vector128<float> value, Span<float> destination, int index) => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)index);

    public static float Reduce<TOperator>(Vector128<float> value)
        where TOperator : IBinaryOperator =>
        TOperator.Invoke(TOperator.Invoke(value.GetElement(0), value.GetElement(1)), TOperator.Invoke(value.GetElement(2), value.GetElement(3)));

    public static Vector128<float> Invoke<TOperator>(Vector128<float> x, Vector128<float> y)
        where TOperator : IBinaryOperator => TOperator.Invoke(x, y);

    public static Vector128<float> Add(Vector128<float> x, Vector128<float> y) => x + y;

    public static Vector128<float> Subtract(Vector128<float> x, Vector128<float> y) => x - y;

    public static Vector128<float> Multiply(Vector128<float> x, Vector128<float> y) => x * y;

    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) =>
#if NET9_0_OR_GREATER
        Vector128.FusedMultiplyAdd(a, b, c);
#else
        (a * b) + c;
#endif

    public static Vector128<float> LessThan(Vector128<float> x, Vector128<float> y) => Vector128.LessThan(x, y);

    public static Vector128<float> GreaterThan(Vector128<float> x, Vector128<float> y) => Vector128.GreaterThan(x, y);

    public static ulong ExtractMostSignificantBits(Vector128<float> mask) => mask.ExtractMostSignificantBits();

    public static Vector128<float> And(Vector128<float> x, Vector128<float> y) => x & y;

    public static Vector128<float> Or(Vector128<float> x, Vector128<float> y) => x | y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllTrue(Vector128<float> mask) => Vector128.EqualsAll(mask.AsInt32(), Vector128<int>.AllBitsSet);

    public static Vector128<float> ConditionalSelect(Vector128<float> mask, Vector128<float> whenTrue, Vector128<float> whenFalse) =>
        Vector128.ConditionalSelect(mask, whenTrue, whenFalse);

    public static float Sum(Vector128<float> value) => Vector128.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ShiftIntoExponent(Vector128<float> x, int bias) =>
        Vector128.ShiftLeft(x.AsInt32() + Vector128.Create(bias), 23).AsSingle();
}

/// <summary><see cref="IVectorWidth{TVector}"/> for <see cref="Vector256{T}"/>.</summary>
internal readonly struct VectorWidth256 : IVectorWidth<Vector256<float>>
{
    public static bool IsHardwareAccelerated => Vector256.IsHardwareAccelerated;

    public static int Count => Vector256<float>.Count;

    public static Vector256<float> AllBitsSet => Vector256<float>.AllBitsSet;

    public static Vector256<float> Create(float value) => Vector256.Create(value);

    public static Vector256<float> Load(ReadOnlySpan<float> source, int index) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)index);

    public static void Store(Vector256<float> value, Span<float> destination, int index) => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)index);

    public static float Reduce<TOperator>(Vector256<float> value)
        where TOperator : IBinaryOperator => VectorWidth128.Reduce<TOperator>(TOperator.Invoke(value.GetLower(), value.GetUpper()));

    public static Vector256<float> Invoke<TOperator>(Vector256<float> x, Vector256<float> y)
        where TOperator : IBinaryOperator => TOperator.Invoke(x, y);

    public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;

    public static Vector256<float> Subtract(Vector256<float> x, Vector256<float> y) => x - y;

    public static Vector256<float> Multiply(Vector256<float> x, Vector256<float> y) => x * y;

    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
#if NET9_0_OR_GREATER
        Vector256.FusedMultiplyAdd(a, b, c);
#else
        (a * b) + c;
#endif

    public static Vector256<float> LessThan(Vector256<float> x, Vector256<float> y) => Vector256.LessThan(x, y);

    public static Vector256<float> GreaterThan(Vector256<float> x, Vector256<float> y) => Vector256.GreaterThan(x, y);

    public static ulong ExtractMostSignificantBits(Vector256<float> mask) => mask.ExtractMostSignificantBits();

    public static Vector256<float> And(Vector256<float> x, Vector256<float> y) => x & y;

    public static Vector256<float> Or(Vector256<float> x, Vector256<float> y) => x | y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllTrue(Vector256<float> mask) => Vector256.EqualsAll(mask.AsInt32(), Vector256<int>.AllBitsSet);

    public static Vector256<float> ConditionalSelect(Vector256<float> mask, Vector256<float> whenTrue, Vector256<float> whenFalse) =>
        Vector256.ConditionalSelect(mask, whenTrue, whenFalse);

    public static float Sum(Vector256<float> value) => Vector256.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ShiftIntoExponent(Vector256<float> x, int bias) =>
        Vector256.ShiftLeft(x.AsInt32() + Vector256.Create(bias), 23).AsSingle();
}

/// <summary><see cref="IVectorWidth{TVector}"/> for <see cref="Vector512{T}"/>.</summary>
internal readonly struct VectorWidth512 : IVectorWidth<Vector512<float>>
{
    public static bool IsHardwareAccelerated => Vector512.IsHardwareAccelerated;

    public static int Count => Vector512<float>.Count;

    public static Vector512<float> AllBitsSet => Vector512<float>.AllBitsSet;

    public static Vector512<float> Create(float value) => Vector512.Create(value);

    public static Vector512<float> Load(ReadOnlySpan<float> source, int index) => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(source), (nuint)index);

    public static void Store(Vector512<float> value, Span<float> destination, int index) => value.StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)index);

    public static float Reduce<TOperator>(Vector512<float> value)
        where TOperator : IBinaryOperator => VectorWidth256.Reduce<TOperator>(TOperator.Invoke(value.GetLower(), value.GetUpper()));

    public static Vector512<float> Invoke<TOperator>(Vector512<float> x, Vector512<float> y)
        where TOperator : IBinaryOperator => TOperator.Invoke(x, y);

    public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;

    public static Vector512<float> Subtract(Vector512<float> x, Vector512<float> y) => x - y;

    public static Vector512<float> Multiply(Vector512<float> x, Vector512<float> y) => x * y;

    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
#if NET9_0_OR_GREATER
        Vector512.FusedMultiplyAdd(a, b, c);
#else
        (a * b) + c;
#endif

    public static Vector512<float> LessThan(Vector512<float> x, Vector512<float> y) => Vector512.LessThan(x, y);

    public static Vector512<float> GreaterThan(Vector512<float> x, Vector512<float> y) => Vector512.GreaterThan(x, y);

    public static ulong ExtractMostSignificantBits(Vector512<float> mask) => mask.ExtractMostSignificantBits();

    public static Vector512<float> And(Vector512<float> x, Vector512<float> y) => x & y;

    public static Vector512<float> Or(Vector512<float> x, Vector512<float> y) => x | y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool AllTrue(Vector512<float> mask) => Vector512.EqualsAll(mask.AsInt32(), Vector512<int>.AllBitsSet);

    public static Vector512<float> ConditionalSelect(Vector512<float> mask, Vector512<float> whenTrue, Vector512<float> whenFalse) =>
        Vector512.ConditionalSelect(mask, whenTrue, whenFalse);

    public static float Sum(Vector512<float> value) => Vector512.Sum(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ShiftIntoExponent(Vector512<float> x, int bias) =>
        Vector512.ShiftLeft(x.AsInt32() + Vector512.Create(bias), 23).AsSingle();
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The element loops of the CPU kernels, written once and driven by operator structs (the shape of
/// <c>TensorPrimitives</c>): each loop runs the widest accelerated width that fits the row (512, 256 or 128 bits),
/// then the scalar form on the tail. A kernel is an operator plus one of these loops.
/// </summary>
/// <remarks>
/// Validity: a <em>checked</em> loop throws <see cref="InvalidLogitsException"/> for a NaN or +∞ entry, naming the
/// first such token of the row (−∞ is a valid logit: a removed token). The vector bodies only detect a problem; the
/// first offender is then found by a scalar scan, so the report does not depend on the width.
/// </remarks>
internal static class SimdLoops
{
    /// <summary>Elements whose float32 lane sums <see cref="MapSum{TOperator}(ReadOnlySpan{float}, float, Span{float})"/> flushes into its float64 total at a time.</summary>
    public const int FlushLength = 1024;

    /// <summary>
    /// <c>destination[i] = f(x[i], y)</c> for every i, checking that no input and no result is NaN or +∞; in place
    /// allowed (<paramref name="destination"/> may be <paramref name="x"/>). Optionally records, ascending, the ids of
    /// the results above −∞ in <paramref name="kept"/>.
    /// </summary>
    /// <remarks>
    /// On an invalid entry the tokens before it are written and the exception names it: stage <c>"input"</c> if
    /// <c>x[i]</c> is invalid, else <paramref name="stage"/> (the operator's result is, e.g. an overflow to +∞).
    /// </remarks>
    /// <returns>The number of ids recorded, or −1 if <paramref name="kept"/> is empty or too short for them.</returns>
    public static int MapChecked<TOperator>(ReadOnlySpan<float> x, float y, Span<float> destination, int row, string stage, Span<int> kept = default)
        where TOperator : IBinaryOperator
    {
        destination = destination[..x.Length];
        int count = kept.IsEmpty ? -1 : 0;
        int done = MapVectors<TOperator, Checked>(x, y, destination, kept, ref count);
        MapCheckedScalar<TOperator>(x[done..], y, destination[done..], row, stage, done);
        return RecordAboveNegativeInfinity(destination[done..], done, kept, count);
    }

    /// <summary>
    /// <c>x[i] = f(x[i], y)</c> in place for every i, unchecked (the row was checked earlier, and the operator cannot make
    /// an invalid value of a valid one, e.g. a mask), recording, ascending, the ids of the results above −∞ in
    /// <paramref name="kept"/>.
    /// </summary>
    /// <returns>The number of ids recorded, or −1 if <paramref name="kept"/> is empty or too short for them.</returns>
    public static int MapRecordingInPlace<TOperator>(Span<float> x, float y, Span<int> kept)
        where TOperator : IBinaryOperator
    {
        int count = kept.IsEmpty ? -1 : 0;
        int done = MapVectors<TOperator, Unchecked>(x, y, x, kept, ref count);
        for (int i = done; i < x.Length; i++)
        {
            x[i] = TOperator.Invoke(x[i], y);
        }

        return RecordAboveNegativeInfinity(x[done..], done, kept, count);
    }

    /// <summary>
    /// <c>destination[i] = f(x[i], y)</c> for every i, unchecked (for results known to be valid, e.g. probabilities
    /// times <c>1/S</c>); in place allowed.
    /// </summary>
    public static void Map<TOperator>(ReadOnlySpan<float> x, float y, Span<float> destination)
        where TOperator : IBinaryOperator
    {
        destination = destination[..x.Length];

        // At most 256 bits: this loop is one load, one operation and one store per vector, and on the AVX-512 machine
        // measured (AMD EPYC, 2 cores) 64-byte stores into a row that is not 64-byte aligned (a managed array never
        // is, reliably) made it 10–40 % slower than 32-byte ones, in cache and out of it.
        int done =
            VectorWidth256.IsHardwareAccelerated && x.Length >= VectorWidth256.Count ? Map<TOperator, VectorWidth256, Vector256<float>>(x, y, destination)
            : VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count ? Map<TOperator, VectorWidth128, Vector128<float>>(x, y, destination)
            : 0;
        for (int i = done; i < x.Length; i++)
        {
            destination[i] = TOperator.Invoke(x[i], y);
        }
    }

    /// <summary>
    /// The <typeparamref name="TOperator"/>-aggregate of <paramref name="x"/> (e.g. its maximum), after checking that no
    /// entry is NaN or +∞; <typeparamref name="TOperator"/>'s identity for an empty row. If <paramref name="copy"/> is not
    /// empty, <paramref name="x"/> is copied into it in the same pass (also when the check then throws).
    /// </summary>
    /// <remarks>
    /// One read of the row: four independent accumulators (the reduction is not one dependent chain) and a validity
    /// mask; a second scan runs only on failure, to name the first invalid token (stage <c>"input"</c>).
    /// </remarks>
    public static float AggregateChecked<TOperator>(ReadOnlySpan<float> x, Span<float> copy, int row)
        where TOperator : IAggregationOperator
    {
        if (!copy.IsEmpty)
        {
            copy = copy[..x.Length];
        }

        float result = TOperator.IdentityValue;
        bool valid = true;

        // The widest width first, then one narrower vector each for what is left: a short row (a compacted support of a
        // few dozen tokens) stays in vector code instead of a scalar tail of up to 15 elements.
        int done = 0;
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = AggregateChecked<TOperator, VectorWidth512, Vector512<float>>(x, copy, ref result, ref valid);
        }

        if (VectorWidth256.IsHardwareAccelerated && x.Length - done >= VectorWidth256.Count)
        {
            done += AggregateChecked<TOperator, VectorWidth256, Vector256<float>>(x[done..], copy.IsEmpty ? copy : copy[done..], ref result, ref valid);
        }

        if (VectorWidth128.IsHardwareAccelerated && x.Length - done >= VectorWidth128.Count)
        {
            done += AggregateChecked<TOperator, VectorWidth128, Vector128<float>>(x[done..], copy.IsEmpty ? copy : copy[done..], ref result, ref valid);
        }
        for (int i = done; i < x.Length; i++)
        {
            float value = x[i];
            if (!copy.IsEmpty)
            {
                copy[i] = value;
            }

            valid &= !RowMath.IsInvalid(value);
            result = TOperator.Invoke(result, value);
        }

        if (!valid)
        {
            RowMath.ThrowFirstInvalid(x, row, "input");
        }

        return result;
    }

    /// <summary>
    /// <c>Σ_i f(x[i], y)</c>, storing each term in <paramref name="destination"/> unless it is empty (in place
    /// allowed): float32 lane sums flushed into a float64 total every <see cref="FlushLength"/> elements. Unchecked.
    /// </summary>
    /// <remarks>
    /// The same operations in the same order whether or not the terms are stored, so both forms return the same sum
    /// (sampling relies on it). The branch on storing is perfectly predicted.
    /// </remarks>
    public static double MapSum<TOperator>(ReadOnlySpan<float> x, float y, Span<float> destination)
        where TOperator : IBinaryOperator
    {
        bool store = !destination.IsEmpty;
        if (store)
        {
            destination = destination[..x.Length];
        }

        // Unlike the other loops, no 128-bit fallback where 256 bits are accelerated: such a short row is summed in scalar,
        // as before these loops were shared, so every sum (and every sampled token) stays bit-identical to earlier releases.
        double total = 0;
        int done =
            VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count ? MapSum<TOperator, VectorWidth512, Vector512<float>>(x, y, destination, store, ref total)
            : VectorWidth256.IsHardwareAccelerated ? (x.Length >= VectorWidth256.Count ? MapSum<TOperator, VectorWidth256, Vector256<float>>(x, y, destination, store, ref total) : 0)
            : VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count ? MapSum<TOperator, VectorWidth128, Vector128<float>>(x, y, destination, store, ref total)
            : 0;
        float tail = 0;
        for (int i = done; i < x.Length; i++)
        {
            float term = TOperator.Invoke(x[i], y);
            if (store)
            {
                destination[i] = term;
            }

            tail += term;
        }

        return total + tail;
    }

    /// <summary>The vector part of the map loops at the widest accelerated width that fits the row; returns the number of elements done.</summary>
    private static int MapVectors<TOperator, TCheck>(ReadOnlySpan<float> x, float y, Span<float> destination, Span<int> kept, ref int count)
        where TOperator : IBinaryOperator
        where TCheck : IValidityCheck
    {
        // The widest width first, then one narrower vector each for what is left (see AggregateChecked). A checked loop
        // that stopped before its last full vector met an invalid value: the scalar form takes over from there.
        int done = 0;
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = MapVectors<TOperator, VectorWidth512, Vector512<float>, TCheck>(x, y, destination, kept, ref count, 0);
            if (x.Length - done >= VectorWidth512.Count)
            {
                return done;
            }
        }

        if (VectorWidth256.IsHardwareAccelerated && x.Length - done >= VectorWidth256.Count)
        {
            done += MapVectors<TOperator, VectorWidth256, Vector256<float>, TCheck>(x[done..], y, destination[done..], kept, ref count, done);
            if (x.Length - done >= VectorWidth256.Count)
            {
                return done;
            }
        }

        if (VectorWidth128.IsHardwareAccelerated && x.Length - done >= VectorWidth128.Count)
        {
            done += MapVectors<TOperator, VectorWidth128, Vector128<float>, TCheck>(x[done..], y, destination[done..], kept, ref count, done);
        }

        return done;
    }

    /// <summary>
    /// The full vectors of <see cref="MapChecked{TOperator}"/> (<typeparamref name="TCheck"/> <see cref="Checked"/>),
    /// <see cref="MapRecordingInPlace{TOperator}"/> (<see cref="Unchecked"/>); returns the number of elements done, which
    /// in the checked form stops short of the last full vector at the first vector holding an invalid input or result
    /// (the scalar form then names it).
    /// </summary>
    /// <remarks>
    /// No call inside the loop: on the System V ABI every vector register is caller-saved, so a call (even on a cold
    /// path) made the JIT keep the broadcast operands and each result on the stack, and that spill of every 64-byte
    /// result made the loop several times slower (softmax's final scale: 10 µs before, 100 µs with the call, at V =
    /// 128256). The kept ids are therefore recorded from the lane mask's bits inline, and the count is a local.
    /// </remarks>
    private static int MapVectors<TOperator, TWidth, TVector, TCheck>(ReadOnlySpan<float> x, float y, Span<float> destination, Span<int> kept, ref int count, int offset)
        where TOperator : IBinaryOperator
        where TWidth : IVectorWidth<TVector>
        where TCheck : IValidityCheck
    {
        var operand = TWidth.Create(y);
        var limit = TWidth.Create(float.PositiveInfinity);
        var removed = TWidth.Create(float.NegativeInfinity);
        ref int ids = ref MemoryMarshal.GetReference(kept);
        int recorded = count;
        int i = 0;
        while (true)
        {
            int end = x.Length;
            if (!TCheck.Enabled && recorded >= 0)
            {
                // Unchecked and recording (a mask after a tight cut keeps few lanes): four vectors per test for kept lanes;
                // a group that has some is redone vector by vector below, then the fast loop resumes.
                int step = 4 * TWidth.Count;
                for (; i <= x.Length - step; i += step)
                {
                    var r0 = TWidth.Invoke<TOperator>(TWidth.Load(x, i), operand);
                    var r1 = TWidth.Invoke<TOperator>(TWidth.Load(x, i + TWidth.Count), operand);
                    var r2 = TWidth.Invoke<TOperator>(TWidth.Load(x, i + (2 * TWidth.Count)), operand);
                    var r3 = TWidth.Invoke<TOperator>(TWidth.Load(x, i + (3 * TWidth.Count)), operand);
                    var any = TWidth.Or(TWidth.Or(TWidth.GreaterThan(r0, removed), TWidth.GreaterThan(r1, removed)), TWidth.Or(TWidth.GreaterThan(r2, removed), TWidth.GreaterThan(r3, removed)));
                    if (TWidth.ExtractMostSignificantBits(any) != 0)
                    {
                        break;
                    }

                    TWidth.Store(r0, destination, i);
                    TWidth.Store(r1, destination, i + TWidth.Count);
                    TWidth.Store(r2, destination, i + (2 * TWidth.Count));
                    TWidth.Store(r3, destination, i + (3 * TWidth.Count));
                }

                end = Math.Min(x.Length, i + step);
            }

            for (; i <= end - TWidth.Count; i += TWidth.Count)
            {
                var input = TWidth.Load(x, i);
                var result = TWidth.Invoke<TOperator>(input, operand);

                // !(v < +∞) holds exactly for NaN and +∞. TCheck.Enabled is a constant: the unchecked instantiation has no test.
                if (TCheck.Enabled && !TWidth.AllTrue(TWidth.And(TWidth.LessThan(input, limit), TWidth.LessThan(result, limit))))
                {
                    break;
                }

                TWidth.Store(result, destination, i);
                if (recorded >= 0)
                {
                    ulong above = TWidth.ExtractMostSignificantBits(TWidth.GreaterThan(result, removed));
                    if (above != 0)
                    {
                        int lanes = BitOperations.PopCount(above);
                        if (lanes > kept.Length - recorded)
                        {
                            recorded = -1;
                            continue;
                        }

                        do
                        {
                            Unsafe.Add(ref ids, recorded++) = offset + i + BitOperations.TrailingZeroCount(above);
                            above &= above - 1;
                        }
                        while (above != 0);
                    }
                }
            }

            if (TCheck.Enabled || i > x.Length - TWidth.Count)
            {
                break;
            }
        }

        count = recorded;
        return i;
    }

    /// <summary>The full vectors of <see cref="Map{TOperator}"/>, two per step, then one; returns the number of elements done.</summary>
    private static int Map<TOperator, TWidth, TVector>(ReadOnlySpan<float> x, float y, Span<float> destination)
        where TOperator : IBinaryOperator
        where TWidth : IVectorWidth<TVector>
    {
        int count = TWidth.Count;
        var operand = TWidth.Create(y);
        int i = 0;
        for (; i <= x.Length - (2 * count); i += 2 * count)
        {
            var r0 = TWidth.Invoke<TOperator>(TWidth.Load(x, i), operand);
            var r1 = TWidth.Invoke<TOperator>(TWidth.Load(x, i + count), operand);
            TWidth.Store(r0, destination, i);
            TWidth.Store(r1, destination, i + count);
        }

        if (i <= x.Length - count)
        {
            TWidth.Store(TWidth.Invoke<TOperator>(TWidth.Load(x, i), operand), destination, i);
            i += count;
        }

        return i;
    }

    private static void MapCheckedScalar<TOperator>(ReadOnlySpan<float> x, float y, Span<float> destination, int row, string stage, int offset)
        where TOperator : IBinaryOperator
    {
        for (int j = 0; j < x.Length; j++)
        {
            float input = x[j];
            if (RowMath.IsInvalid(input))
            {
                ThrowHelper.ThrowInvalidLogits(row, offset + j, input, "input");
            }

            float result = TOperator.Invoke(input, y);
            if (RowMath.IsInvalid(result))
            {
                ThrowHelper.ThrowInvalidLogits(row, offset + j, result, stage);
            }

            destination[j] = result;
        }
    }

    /// <summary>Appends <c>offset + j</c> for each <c>values[j] &gt; −∞</c>; −1 once <paramref name="kept"/> is full (or if <paramref name="count"/> is).</summary>
    public static int RecordAboveNegativeInfinity(ReadOnlySpan<float> values, int offset, Span<int> kept, int count)
    {
        for (int j = 0; j < values.Length && count >= 0; j++)
        {
            if (values[j] > float.NegativeInfinity)
            {
                if (count == kept.Length)
                {
                    return -1;
                }

                kept[count++] = offset + j;
            }
        }

        return count;
    }

    /// <summary>The full vectors of <see cref="AggregateChecked{TOperator}"/>; returns the number of elements done.</summary>
    private static int AggregateChecked<TOperator, TWidth, TVector>(ReadOnlySpan<float> x, Span<float> copy, ref float result, ref bool valid)
        where TOperator : IAggregationOperator
        where TWidth : IVectorWidth<TVector>
    {
        int count = TWidth.Count;
        var limit = TWidth.Create(float.PositiveInfinity);
        var a0 = TWidth.Create(TOperator.IdentityValue);
        var a1 = a0;
        var a2 = a0;
        var a3 = a0;
        var inRange = TWidth.AllBitsSet;
        bool copying = !copy.IsEmpty;
        int i = 0;
        for (; i <= x.Length - (4 * count); i += 4 * count)
        {
            var v0 = TWidth.Load(x, i);
            var v1 = TWidth.Load(x, i + count);
            var v2 = TWidth.Load(x, i + (2 * count));
            var v3 = TWidth.Load(x, i + (3 * count));
            if (copying)
            {
                TWidth.Store(v0, copy, i);
                TWidth.Store(v1, copy, i + count);
                TWidth.Store(v2, copy, i + (2 * count));
                TWidth.Store(v3, copy, i + (3 * count));
            }

            a0 = TWidth.Invoke<TOperator>(a0, v0);
            a1 = TWidth.Invoke<TOperator>(a1, v1);
            a2 = TWidth.Invoke<TOperator>(a2, v2);
            a3 = TWidth.Invoke<TOperator>(a3, v3);
            var low = TWidth.And(TWidth.LessThan(v0, limit), TWidth.LessThan(v1, limit));
            var high = TWidth.And(TWidth.LessThan(v2, limit), TWidth.LessThan(v3, limit));
            inRange = TWidth.And(inRange, TWidth.And(low, high));
        }

        for (; i <= x.Length - count; i += count)
        {
            var v = TWidth.Load(x, i);
            if (copying)
            {
                TWidth.Store(v, copy, i);
            }

            a0 = TWidth.Invoke<TOperator>(a0, v);
            inRange = TWidth.And(inRange, TWidth.LessThan(v, limit));
        }

        var lanes = TWidth.Invoke<TOperator>(TWidth.Invoke<TOperator>(a0, a1), TWidth.Invoke<TOperator>(a2, a3));
        result = TOperator.Invoke(result, TWidth.Reduce<TOperator>(lanes));
        valid &= TWidth.AllTrue(inRange);
        return i;
    }

    /// <summary>The full vectors of <see cref="MapSum{TOperator}"/>, adding to <paramref name="total"/>; returns the number of elements done.</summary>
    private static int MapSum<TOperator, TWidth, TVector>(ReadOnlySpan<float> x, float y, Span<float> destination, bool store, ref double total)
        where TOperator : IBinaryOperator
        where TWidth : IVectorWidth<TVector>
    {
        int count = TWidth.Count;
        int done = x.Length - (x.Length % count);
        var operand = TWidth.Create(y);
        for (int block = 0; block < done; block += FlushLength)
        {
            int end = Math.Min(block + FlushLength, done);
            var sum0 = TWidth.Create(0f);
            var sum1 = sum0;
            int i = block;
            for (; i + (2 * count) <= end; i += 2 * count)
            {
                var t0 = TWidth.Invoke<TOperator>(TWidth.Load(x, i), operand);
                var t1 = TWidth.Invoke<TOperator>(TWidth.Load(x, i + count), operand);
                if (store)
                {
                    TWidth.Store(t0, destination, i);
                    TWidth.Store(t1, destination, i + count);
                }

                sum0 = TWidth.Add(sum0, t0);
                sum1 = TWidth.Add(sum1, t1);
            }

            if (i < end)
            {
                var t = TWidth.Invoke<TOperator>(TWidth.Load(x, i), operand);
                if (store)
                {
                    TWidth.Store(t, destination, i);
                }

                sum0 = TWidth.Add(sum0, t);
            }

            total += TWidth.Sum(TWidth.Add(sum0, sum1));
        }

        return done;
    }

    /// <summary>Whether a loop instantiation tests its values for NaN and +∞ (a constant per type, so the JIT drops the dead form).</summary>
    private interface IValidityCheck
    {
        static abstract bool Enabled { get; }
    }

    private readonly struct Checked : IValidityCheck
    {
        public static bool Enabled => true;
    }

    private readonly struct Unchecked : IValidityCheck
    {
        public static bool Enabled => false;
    }
}

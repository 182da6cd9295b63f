using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Two passes over the touched entries only: every argument is checked and every new value computed (and checked)
    /// from the values before the call, then all are written, so a failed call leaves the batch unchanged and a repeated
    /// id's last edit wins. A touched entry becomes <c>-∞</c> at most, so the rows' known supports stay valid; their
    /// maxima are forgotten.
    /// </remarks>
    public void PenalizeTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets)
    {
        var target = AsCpu(destination, nameof(destination));
        int perRow = IdsPerRow(target, tokenIds.Length, nameof(tokenIds));
        RequirePenaltyLengths(tokenIds, divisors, offsets);
        if (tokenIds.IsEmpty)
        {
            return;
        }

        var data = target.Storage.Span;
        var results = ArrayPool<float>.Shared.Rent(tokenIds.Length);
        try
        {
            // One pass checks the arguments of an entry, then its current value, then computes it: the checks cost no
            // pass of their own (they used to take a third of the call at a few thousand ids).
            for (int row = 0; row < target.Rows; row++)
            {
                var values = data.Slice(row * target.Vocab, target.Vocab);
                int first = row * perRow;
                int end = first + perRow;

                // Eight entries at a time while every one is valid; the scalar loop takes the rest, and a block with a
                // bad entry, where it throws for the first one exactly as if it had run from the start.
                int i = Vector256.IsHardwareAccelerated ? PenalizeBlocks(values, tokenIds, divisors, offsets, results, first, end) : first;
                for (; i < end; i++)
                {
                    int id = tokenIds[i];
                    if (id < 0)
                    {
                        continue;
                    }

                    double divisor = divisors[i];
                    double offset = offsets[i];
                    if ((uint)id >= (uint)target.Vocab || !(divisor > 0) || !double.IsFinite(divisor) || double.IsNaN(offset) || double.IsNegativeInfinity(offset))
                    {
                        ThrowInvalidPenalty(i, id, divisor, offset, perRow, target.Vocab);
                    }

                    float current = values[id];
                    if (RowMath.IsInvalid(current))
                    {
                        ThrowHelper.ThrowInvalidLogits(row, id, current, "input");
                    }

                    results[i] = PenalizedValue(current, divisor, offset, row, id);
                }
            }

            // Every id is now known to be below the vocabulary size (negative ones are padding), so the writes need no
            // bounds checks of their own.
            ref float start = ref MemoryMarshal.GetReference(data);
            ref float result = ref MemoryMarshal.GetArrayDataReference(results);
            for (int row = 0; row < target.Rows; row++)
            {
                ref float values = ref Unsafe.Add(ref start, row * target.Vocab);
                var ids = tokenIds.Slice(row * perRow, perRow);
                ref float rowResults = ref Unsafe.Add(ref result, row * perRow);
                for (int i = 0; i < ids.Length; i++)
                {
                    int id = ids[i];
                    if (id >= 0)
                    {
                        Unsafe.Add(ref values, id) = Unsafe.Add(ref rowResults, i);
                    }
                }
            }

            if (target.Support is { } support)
            {
                for (int r = 0; r < target.Rows; r++)
                {
                    support.ForgetMaximum(r);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>
    /// The vector form of the first pass over entries <c>[first, end)</c> of one row: eight entries at a time, each
    /// computed exactly as <see cref="PenalizedValue"/> (the same float64 operations, branch-free: on rows of both signs
    /// the scalar loop's sign branch was mispredicted about every other entry). Stops at the first block holding a bad
    /// argument, a bad current value or an overflow, and returns where the scalar loop must go on.
    /// </summary>
    private static int PenalizeBlocks(ReadOnlySpan<float> values, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets, float[] results, int first, int end)
    {
        // Bounds are checked once here (the ids are checked per block before any read), not per element.
        if ((uint)end > (uint)tokenIds.Length || (uint)end > (uint)divisors.Length || (uint)end > (uint)offsets.Length || (uint)end > (uint)results.Length || first < 0)
        {
            return first;
        }

        ref float value = ref MemoryMarshal.GetReference(values);
        ref int id = ref MemoryMarshal.GetReference(tokenIds);
        ref double divisorAt = ref MemoryMarshal.GetReference(divisors);
        ref double offsetAt = ref MemoryMarshal.GetReference(offsets);
        ref float result = ref MemoryMarshal.GetArrayDataReference(results);
        var vocab = Vector256.Create(values.Length);
        int i = first;
        for (; i <= end - 8; i += 8)
        {
            var ids = Vector256.LoadUnsafe(ref id, (nuint)i);
            if (Vector256.GreaterThanOrEqualAny(ids, vocab))
            {
                break;
            }

            // Padding reads entry 0 (any valid index) and is then given z = 0, θ = 1, δ = 0, which always pass. The ids
            // are read again as scalars: cheaper than extracting the lanes of the vector.
            var padding = Vector256.LessThan(ids, Vector256<int>.Zero);
            ref int blockIds = ref Unsafe.Add(ref id, i);
            var gathered = Vector256.Create(
                Unsafe.Add(ref value, NotPadding(blockIds)),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 1))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 2))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 3))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 4))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 5))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 6))),
                Unsafe.Add(ref value, NotPadding(Unsafe.Add(ref blockIds, 7))));
            var lower = Penalize(Vector256.WidenLower(gathered), Vector256.WidenLower(~padding).AsDouble(), ref divisorAt, ref offsetAt, i, out var lowerValid);
            var upper = Penalize(Vector256.WidenUpper(gathered), Vector256.WidenUpper(~padding).AsDouble(), ref divisorAt, ref offsetAt, i + 4, out var upperValid);
            if (!Vector256.EqualsAll((lowerValid & upperValid).AsInt64(), Vector256<long>.AllBitsSet))
            {
                break;
            }

            Vector256.Narrow(lower, upper).StoreUnsafe(ref result, (nuint)i);
        }

        return i;
    }

    /// <summary>An id, or 0 for padding (a negative id), without a branch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NotPadding(int id) => id & ~(id >> 31);

    /// <summary>
    /// Four entries of a block of <see cref="PenalizeBlocks"/>: the current values <paramref name="current"/> (widened), the lanes
    /// that are not padding, and the divisors and offsets at <paramref name="index"/>. Returns the results still in
    /// float64 but already banned (-∞ below <c>-float.MaxValue</c>), so one narrowing rounds them; <paramref name="valid"/>
    /// is all ones in a lane whose arguments, value and result pass every check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Penalize(Vector256<double> current, Vector256<double> active, ref double divisorAt, ref double offsetAt, int index, out Vector256<double> valid)
    {
        var infinity = Vector256.Create(double.PositiveInfinity);
        var largest = Vector256.Create((double)float.MaxValue);
        var z = current & active;
        var divisor = Vector256.ConditionalSelect(active, Vector256.LoadUnsafe(ref divisorAt, (nuint)index), Vector256<double>.One);
        var offset = Vector256.LoadUnsafe(ref offsetAt, (nuint)index) & active;

        // As PenalizedValue: divide positives, multiply the rest; subtract δ; below -float.MaxValue is -∞.
        var penalized = Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<double>.Zero), z / divisor, z * divisor) - offset;
        valid = Vector256.GreaterThan(divisor, Vector256<double>.Zero)
            & Vector256.LessThan(divisor, infinity)
            & Vector256.GreaterThan(offset, -infinity)
            & Vector256.LessThan(z, infinity)
            & Vector256.LessThanOrEqual(penalized, largest);
        return Vector256.ConditionalSelect(Vector256.LessThan(penalized, -largest), -infinity, penalized);
    }

    /// <summary>
    /// <c>(z &gt; 0 ? z / θ : z·θ) - δ</c> in float64, rounded once: below <c>-float.MaxValue</c> is a ban (<c>-∞</c>),
    /// above <c>float.MaxValue</c> throws with stage <c>"penalize"</c>.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static float PenalizedValue(float current, double divisor, double offset, int row, int id)
    {
        double z = current;

        // Divide positives, multiply negatives (0 stays 0): dividing a negative would raise it.
        z = z > 0 ? z / divisor : z * divisor;
        z -= offset;
        if (z < -float.MaxValue)
        {
            return float.NegativeInfinity;
        }

        if (!(z <= float.MaxValue))
        {
            ThrowHelper.ThrowInvalidLogits(row, id, float.PositiveInfinity, "penalize");
        }

        return (float)z;
    }

    /// <summary>The argument checks of <see cref="PenalizeTokens"/> (shared with the torch backend).</summary>
    internal static void ValidatePenalties(ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets, int perRow)
    {
        RequirePenaltyLengths(tokenIds, divisors, offsets);
        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] >= 0 && (!(divisors[i] > 0) || !double.IsFinite(divisors[i]) || double.IsNaN(offsets[i]) || double.IsNegativeInfinity(offsets[i])))
            {
                ThrowInvalidPenalty(i, tokenIds[i], divisors[i], offsets[i], perRow, int.MaxValue);
            }
        }
    }

    private static void RequirePenaltyLengths(ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets)
    {
        if (divisors.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(divisors), $"has {divisors.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        if (offsets.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(offsets), $"has {offsets.Length} elements but tokenIds has {tokenIds.Length}.");
        }
    }

    /// <summary>Throws for the first bad argument of entry <paramref name="i"/>: its id, then its divisor, then its offset.</summary>
    private static void ThrowInvalidPenalty(int i, int id, double divisor, double offset, int perRow, int vocab)
    {
        if (id >= vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange("tokenIds", id, $"must be below the vocabulary size {vocab} (row {i / perRow}, position {i % perRow}; negative ids are padding)");
        }

        if (!(divisor > 0) || !double.IsFinite(divisor))
        {
            ThrowHelper.ThrowArgumentOutOfRange("divisors", divisor, $"must be finite and greater than 0 (row {i / perRow}, position {i % perRow})");
        }

        ThrowHelper.ThrowArgumentOutOfRange("offsets", offset, $"must be finite or +infinity (row {i / perRow}, position {i % perRow})");
    }
}

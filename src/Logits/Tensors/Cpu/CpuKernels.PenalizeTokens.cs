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

                // Four entries at a time while every one is valid; the scalar loop takes the rest, and a block with a
                // bad entry, where it throws for the first one exactly as if it had run from the start.
                int i = Vector256.IsHardwareAccelerated ? PenalizeFours(values, tokenIds, divisors, offsets, results, first, end) : first;
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
    /// The vector form of the first pass over entries <c>[first, end)</c> of one row: four entries at a time, each
    /// computed exactly as <see cref="PenalizedValue"/> (the same float64 operations, branch-free: on rows of both signs
    /// the scalar loop's sign branch was mispredicted about every other entry). Stops at the first block holding a bad
    /// argument, a bad current value or an overflow, and returns where the scalar loop must go on.
    /// </summary>
    private static int PenalizeFours(ReadOnlySpan<float> values, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets, float[] results, int first, int end)
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
        var vocab = Vector128.Create(values.Length);
        var infinity = Vector256.Create(double.PositiveInfinity);
        var largest = Vector256.Create((double)float.MaxValue);
        int i = first;
        for (; i <= end - 4; i += 4)
        {
            var ids = Vector128.LoadUnsafe(ref id, (nuint)i);
            if (Vector128.GreaterThanOrEqualAny(ids, vocab))
            {
                break;
            }

            // Padding reads entry 0 (any valid index) and is then given z = 0, θ = 1, δ = 0, which always pass.
            var padding = Vector128.LessThan(ids, Vector128<int>.Zero);
            var safe = Vector128.AndNot(ids, padding);
            var gathered = Vector128.Create(
                Unsafe.Add(ref value, safe.ToScalar()),
                Unsafe.Add(ref value, safe.GetElement(1)),
                Unsafe.Add(ref value, safe.GetElement(2)),
                Unsafe.Add(ref value, safe.GetElement(3)));
            var active = Vector256.Create(Vector128.WidenLower(~padding), Vector128.WidenUpper(~padding)).AsDouble();
            var z = Vector256.Create(Vector128.WidenLower(gathered), Vector128.WidenUpper(gathered)) & active;
            var divisor = Vector256.ConditionalSelect(active, Vector256.LoadUnsafe(ref divisorAt, (nuint)i), Vector256<double>.One);
            var offset = Vector256.LoadUnsafe(ref offsetAt, (nuint)i) & active;

            // As PenalizedValue: divide positives, multiply the rest; subtract δ; below -float.MaxValue is -∞.
            var penalized = Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<double>.Zero), z / divisor, z * divisor) - offset;
            var valid = Vector256.GreaterThan(divisor, Vector256<double>.Zero)
                & Vector256.LessThan(divisor, infinity)
                & Vector256.GreaterThan(offset, -infinity)
                & Vector256.LessThan(z, infinity)
                & Vector256.LessThanOrEqual(penalized, largest);
            if (!Vector256.EqualsAll(valid.AsInt64(), Vector256<long>.AllBitsSet))
            {
                break;
            }

            var banned = Vector256.LessThan(penalized, -largest);
            var rounded = Vector128.Narrow(penalized.GetLower(), penalized.GetUpper());
            Vector128.ConditionalSelect(Vector128.Narrow(banned.GetLower().AsInt64(), banned.GetUpper().AsInt64()).AsSingle(), Vector128.Create(float.NegativeInfinity), rounded)
                .StoreUnsafe(ref result, (nuint)i);
        }

        return i;
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

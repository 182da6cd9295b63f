
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
                for (int i = first; i < first + perRow; i++)
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

            for (int row = 0; row < target.Rows; row++)
            {
                var values = data.Slice(row * target.Vocab, target.Vocab);
                int first = row * perRow;
                for (int i = first; i < first + perRow; i++)
                {
                    int id = tokenIds[i];
                    if (id >= 0)
                    {
                        values[id] = results[i];
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


namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Two passes over the touched entries only: every new value is computed (and checked) from the values before the
    /// call, then all are written, so a failed call leaves the batch unchanged and a repeated id's last edit wins. A
    /// touched entry becomes <c>-∞</c> at most, so the rows' known supports stay valid; their maxima are forgotten.
    /// </remarks>
    public void PenalizeTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets)
    {
        var target = AsCpu(destination, nameof(destination));
        int perRow = IdsPerRow(target, tokenIds.Length, nameof(tokenIds));
        ValidatePenalties(tokenIds, divisors, offsets, perRow);
        ValidateIds(tokenIds, perRow, target.Vocab, nameof(tokenIds));
        if (tokenIds.IsEmpty)
        {
            return;
        }

        var data = target.Storage.Span;
        int vocab = target.Vocab;
        var results = ArrayPool<float>.Shared.Rent(tokenIds.Length);
        try
        {
            for (int i = 0; i < tokenIds.Length; i++)
            {
                int id = tokenIds[i];
                if (id < 0)
                {
                    continue;
                }

                int row = i / perRow;
                float current = data[(row * vocab) + id];
                if (RowMath.IsInvalid(current))
                {
                    ThrowHelper.ThrowInvalidLogits(row, id, current, "input");
                }

                results[i] = PenalizedValue(current, divisors[i], offsets[i], row, id);
            }

            var support = target.Support;
            for (int i = 0; i < tokenIds.Length; i++)
            {
                int id = tokenIds[i];
                if (id >= 0)
                {
                    int row = i / perRow;
                    data[(row * vocab) + id] = results[i];
                    support?.ForgetMaximum(row);
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
        if (divisors.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(divisors), $"has {divisors.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        if (offsets.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(offsets), $"has {offsets.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] < 0)
            {
                continue;
            }

            if (!(divisors[i] > 0) || !double.IsFinite(divisors[i]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(divisors), divisors[i], $"must be finite and greater than 0 (row {i / perRow}, position {i % perRow})");
            }

            if (double.IsNaN(offsets[i]) || double.IsNegativeInfinity(offsets[i]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(offsets), offsets[i], $"must be finite or +infinity (row {i / perRow}, position {i % perRow})");
            }
        }
    }
}

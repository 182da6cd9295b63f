namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Two passes over the touched entries only: every new value is computed (and its input checked) from the values
    /// before the call, then all are written, so a failed call leaves the batch unchanged and a repeated id's last edit
    /// wins. No entry becomes finite, so the rows' known supports stay valid; their maxima are forgotten.
    /// </remarks>
    public void BoostTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> growth)
    {
        var target = AsCpu(destination, nameof(destination));
        int perRow = IdsPerRow(target, tokenIds.Length, nameof(tokenIds));
        ValidateGrowth(tokenIds, growth, perRow);
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

                results[i] = BoostedValue(current, growth[i]);
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

    /// <summary><c>z + |z|·g</c> in float64, rounded once and saturated at <c>float.MaxValue</c>; <c>±0</c> and <c>-∞</c> stay.</summary>
    internal static float BoostedValue(float z, double growth)
    {
        if (z == 0 || float.IsNegativeInfinity(z))
        {
            // No boost of a zero (and no 0·∞ when g is infinite); a removed token stays removed.
            return z;
        }

        float rounded = (float)(z + (Math.Abs((double)z) * growth));
        return float.IsPositiveInfinity(rounded) ? float.MaxValue : rounded;
    }

    /// <summary>The argument checks of <see cref="BoostTokens"/> (shared with the torch backend).</summary>
    internal static void ValidateGrowth(ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> growth, int perRow)
    {
        if (growth.Length != tokenIds.Length)
        {
            ThrowHelper.ThrowArgument(nameof(growth), $"has {growth.Length} elements but tokenIds has {tokenIds.Length}.");
        }

        for (int i = 0; i < tokenIds.Length; i++)
        {
            if (tokenIds[i] >= 0 && !(growth[i] >= 0))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(growth), growth[i], $"must be at least 0 (+infinity allowed; row {i / perRow}, position {i % perRow})");
            }
        }
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// One <c>topk</c> with the largest <c>k</c> of the batch, then a gather of each row's <c>k</c>-th column.
    /// <c>-∞</c> entries are values like any other, so a <c>k</c> above the number of finite entries gives <c>-∞</c>.
    /// </remarks>
    public void KthLargest(LogitBatch x, ReadOnlySpan<int> k, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(k.Length, input.Rows, nameof(k));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        int largestK = 1;
        var columns = new long[k.Length];
        for (int row = 0; row < k.Length; row++)
        {
            if (k[row] < 1 || k[row] > input.Vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[row], $"must be in [1, {input.Vocab}] (row {row})");
            }

            largestK = Math.Max(largestK, k[row]);
            columns[row] = k[row] - 1;
        }

        CheckInput(input, emptyStage: null);

        double[] kth;
        using (var scope = NewDisposeScope())
        {
            kth = input.Read(KthLargestColumn(input, largestK, columns));
        }

        for (int row = 0; row < kth.Length; row++)
        {
            destination[row] = (float)kth[row];
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The k-th largest values stay on the device as a <c>[Rows, 1]</c> column (one <c>topk</c> and a gather), so the
    /// call makes no host read; the row maxima the batch remembers stay valid (k ≥ 1 keeps every row's maximum).
    /// </remarks>
    public void MaskBelowKthLargest(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(k.Length, input.Rows, nameof(k));
        int largestK = 1;
        bool any = false;
        var columns = new long[k.Length];
        for (int row = 0; row < k.Length; row++)
        {
            if (k[row] < 1 || k[row] > input.Vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[row], $"must be in [1, {input.Vocab}] (row {row})");
            }

            largestK = Math.Max(largestK, k[row]);
            any |= k[row] < input.Vocab;
            columns[row] = k[row] - 1;
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using var scope = NewDisposeScope();
        if (any)
        {
            MaskBelowColumn(input, KthLargestColumn(input, largestK, columns), output);
        }
        else if (!ReferenceEquals(input, output))
        {
            output.Values.copy_(input.Values);
        }

        KeepMaxima(input, output);

        // Every finite entry outside a row's k largest now equals the k-th largest (ties kept).
        var prefix = k.ToArray();
        if (input.TryGetTopPrefix(out var before))
        {
            for (int row = 0; row < prefix.Length; row++)
            {
                prefix[row] = Math.Min(prefix[row], before[row]);
            }
        }

        output.RememberTopPrefix(prefix);
    }

    /// <summary>The <c>[Rows, 1]</c> column of each row's k-th largest value (created in the caller's scope).</summary>
    private static Tensor KthLargestColumn(TorchLogitBatch input, int largestK, long[] columns)
    {
        var (values, _) = input.Values.topk(largestK, 1, largest: true, sorted: true);
        return values.gather(1, Indices(columns, input.Rows, input.Device));
    }

    /// <summary>
    /// <c>destination = where(x &lt; τ_row, -∞, x)</c> with a <c>[Rows, 1]</c> threshold column on the device; in place
    /// when the batches are the same (created in the caller's scope).
    /// </summary>
    private static void MaskBelowColumn(TorchLogitBatch input, Tensor thresholds, TorchLogitBatch output)
    {
        var below = input.Values.lt(thresholds);
        if (ReferenceEquals(input, output))
        {
            input.Values.masked_fill_(below, TorchScalars.NegativeInfinity);
        }
        else
        {
            output.Values.copy_(input.Values.masked_fill(below, TorchScalars.NegativeInfinity));
        }
    }

    /// <summary>An order-keeping kernel that only removes the lowest entries: the output keeps the input's top prefixes.</summary>
    private static void CarryTopPrefix(TorchLogitBatch input, TorchLogitBatch output)
    {
        if (ReferenceEquals(input, output))
        {
            return;
        }

        if (input.TryGetTopPrefix(out var prefix))
        {
            output.RememberTopPrefix(prefix);
        }
        else
        {
            output.ForgetTopPrefix();
        }
    }

    /// <summary>A kernel that keeps every row's maximum: the output remembers the input's maxima, if known.</summary>
    private static void KeepMaxima(TorchLogitBatch input, TorchLogitBatch output)
    {
        if (input.TryGetMaxima(out var maxima))
        {
            if (!ReferenceEquals(input, output))
            {
                output.RememberMaxima(maxima);
            }
        }
        else
        {
            output.ForgetMaxima();
        }
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// On the device: the k-th largest column <c>τ</c> (one <c>topk</c> and a gather, as <see cref="MaskBelowKthLargest"/>),
    /// the count of entries above it, and the rank of each tie at <c>τ</c> by a prefix count along the row (ascending ids);
    /// an entry is kept when above <c>τ</c>, or tied with rank at most <c>k - above</c>. No host read; every row keeps its
    /// maximum, so remembered maxima carry over.
    /// </remarks>
    public void MaskExceptTopK(LogitBatch x, ReadOnlySpan<int> k, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(k.Length, input.Rows, nameof(k));
        int largestK = 1;
        bool any = false;
        var columns = new long[k.Length];
        var counts = new long[k.Length];
        for (int row = 0; row < k.Length; row++)
        {
            if (k[row] < 1 || k[row] > input.Vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k[row], $"must be in [1, {input.Vocab}] (row {row})");
            }

            largestK = Math.Max(largestK, k[row]);
            any |= k[row] < input.Vocab;
            columns[row] = k[row] - 1;
            counts[row] = k[row];
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            if (any)
            {
                var values = input.Values;
                var threshold = KthLargestColumn(input, largestK, columns);
                var above = values.gt(threshold);
                var ties = values.eq(threshold);
                var room = Indices(counts, input.Rows, input.Device).sub(above.sum(new long[] { 1 }, keepdim: true, type: ScalarType.Int64));
                var rank = ties.to_type(ScalarType.Int64).cumsum(1);
                var drop = above.logical_or(ties.logical_and(rank.le(room))).logical_not();
                if (ReferenceEquals(input, output))
                {
                    values.masked_fill_(drop, TorchScalars.NegativeInfinity);
                }
                else
                {
                    output.Values.copy_(values.masked_fill(drop, TorchScalars.NegativeInfinity));
                }
            }
            else if (!ReferenceEquals(input, output))
            {
                output.Values.copy_(input.Values);
            }
        }

        KeepMaxima(input, output);

        // At most k finite entries remain per row: every entry outside the k largest is -inf.
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
}

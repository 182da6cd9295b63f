using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Inside a pipeline call on trusted entries, on the device: the float64 log-sum-exp (as <see cref="RowStatistics"/>),
    /// <c>p = exp(z - lse)</c>, the qualifier mask, its count, smallest logit <c>τ</c> and smallest probability, the count
    /// of qualifiers above that probability, the protected logits against <c>τ</c>, and one <c>masked_fill</c> of the
    /// entries above <c>τ</c> in the rows that cut: no host read (the whole row is at hand, so the rare re-read of the
    /// composition is not needed). Otherwise the composition of <see cref="RowStatistics"/>, <see cref="LargestValues"/>,
    /// <see cref="Gather"/> and <see cref="MaskOutside"/>. <c>exp</c> is libtorch's, so a probability within rounding
    /// distance of the threshold may decide differently from the CPU backend.
    /// </remarks>
    public void MaskTopChoices(LogitBatch x, ReadOnlySpan<double> threshold, int minTokensToKeep, ReadOnlySpan<int> protectedIds, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        CpuKernels.ValidateTopChoices(input.Rows, input.Vocab, threshold, minTokensToKeep, protectedIds);
        if (!(ReferenceEquals(input, output) && input.InPipelineCall && IsTrusted(input)))
        {
            CpuKernels.MaskTopChoicesComposed(this, input, threshold, minTokensToKeep, protectedIds, output);
            return;
        }

        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var values = input.Values;
            var z = values.to_type(ScalarType.Float64);
            var finite = z.isneginf().logical_not();
            var (count, logSumExp, _) = EntropyColumns(z, finite);
            var p = z.sub(logSumExp).exp();
            var qualifies = finite.logical_and(p.ge(Column(threshold.ToArray(), device)));
            var qualifiers = qualifies.sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
            var others = qualifies.logical_not();
            var leastLikely = values.masked_fill(others, TorchScalars.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
            var smallest = p.masked_fill(others, TorchScalars.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
            var removed = qualifies.logical_and(p.gt(smallest)).sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
            using var two = 2.0.ToScalar();
            using var keep = ((double)minTokensToKeep).ToScalar();
            var cuts = qualifiers.ge(two).logical_and(removed.Above(0)).logical_and(count.sub(removed).ge(keep));
            if (protectedIds.Length > 0)
            {
                var ids = tensor(Array.ConvertAll(protectedIds.ToArray(), id => (long)id), new long[] { protectedIds.Length }, ScalarType.Int64, device);
                var protectedAbove = values.index_select(1, ids).gt(leastLikely).any(1, keepdim: true);
                cuts = cuts.logical_and(protectedAbove.logical_not());
            }

            values.masked_fill_(values.gt(leastLikely).logical_and(cuts), TorchScalars.NegativeInfinity);
        }

        // The rows that cut lose their maxima; an order-keeping removal from the top breaks the top prefixes.
        input.ForgetRowFacts();
    }
}

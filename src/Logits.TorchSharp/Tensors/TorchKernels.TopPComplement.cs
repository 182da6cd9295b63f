using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// On the device: one ascending <c>sort</c> of each row (the <c>-∞</c> entries first, with probability 0), float32
    /// <c>q = exp(z - m)</c>, their sum, the running sum of <c>q / S</c> (<c>cumsum</c>), the count of positions within
    /// <c>1 - p</c> (a prefix, the running sum being monotone; the <c>-∞</c> positions count too and are taken off again),
    /// capped at <c>|F| - minTokensToKeep</c>, and a gather of the first kept value as the threshold column: no host read.
    /// Each row keeps its maximum, so remembered maxima carry over.
    /// </remarks>
    public void MaskBelowTopPComplement(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        CpuKernels.ValidateTopPComplement(input.Rows, p, minTokensToKeep);
        var complements = new float[p.Length];
        bool any = false;
        for (int r = 0; r < p.Length; r++)
        {
            // p ≥ 1 keeps the row: a complement of -1 removes nothing.
            complements[r] = p[r] < 1 ? (float)(1 - p[r]) : -1f;
            any |= p[r] < 1;
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            if (any)
            {
                Device device = input.Device;
                var values = input.Values;
                long vocab = input.Vocab;
                var finite = values.isneginf().logical_not().sum(new long[] { 1 }, keepdim: true, type: ScalarType.Int64);
                var max = values.amax(new long[] { 1 }, keepdim: true);
                var (sorted, _) = values.sort(1, descending: false);
                var weights = sorted.sub(max).exp().FilledWhere(sorted.isneginf(), 0);
                var cumulative = weights.div(weights.sum(new long[] { 1 }, keepdim: true)).cumsum(1);
                var within = cumulative.le(Column(complements, device)).sum(new long[] { 1 }, keepdim: true, type: ScalarType.Int64);
                var leading = Indices(Enumerable.Repeat(vocab, input.Rows).ToArray(), input.Rows, device).sub(finite);
                var keepAtLeast = Indices(Enumerable.Repeat((long)minTokensToKeep, input.Rows).ToArray(), input.Rows, device);
                var removed = within.sub(leading).clamp_min(TorchScalars.Zero).minimum(finite.sub(keepAtLeast).clamp_min(TorchScalars.Zero));
                using var lastColumn = (vocab - 1).ToScalar();
                var index = leading.add(removed, TorchScalars.One).clamp_max(lastColumn);
                var thresholds = sorted.gather(1, index)
                    .masked_fill(finite.EqualTo(0).logical_or(Column(complements, device).lt(TorchScalars.Zero)), TorchScalars.NegativeInfinity);
                MaskBelowColumn(input, thresholds, output);
            }
            else if (!ReferenceEquals(input, output))
            {
                output.Values.copy_(input.Values);
            }
        }

        KeepMaxima(input, output);
        CarryTopPrefix(input, output);
    }
}


namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// On the device, in float64 over the finite entries and only for the terms some row uses: the maximum <c>m</c>,
    /// <c>lse = m + ln Σ exp(z - m)</c>, <c>H = max(0, ln S - T/S)</c> and the population standard deviation (as
    /// <see cref="RowStatistics"/>); the rules arrive as <c>[Rows, 1]</c> columns, the threshold column is rounded to
    /// float32 once, lowered to the k-th largest value (<c>topk</c>, or the maximum for <c>k = 1</c>) and applied as a
    /// mask: no host read. An all-<c>-∞</c> row gets threshold <c>-∞</c> and stays so; every row keeps its maximum, so
    /// remembered maxima and top prefixes carry over.
    /// </remarks>
    public void MaskBelowRowThreshold(LogitBatch x, ReadOnlySpan<RowThresholdRule> rules, int minTokensToKeep, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(rules.Length, input.Rows, nameof(rules));
        RowThresholdRule.Validate(rules, nameof(rules));
        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        int rows = input.Rows;
        var maxOffsets = new double[rows];
        var deviations = new double[rows];
        var lseOffsets = new double[rows];
        var entropyOffsets = new double[rows];
        bool anyMax = false, anyDeviation = false, anyLse = false, anyEntropy = false;
        for (int row = 0; row < rows; row++)
        {
            var rule = rules[row];
            maxOffsets[row] = rule.MaxOffset;
            deviations[row] = rule.StandardDeviations;
            lseOffsets[row] = rule.LogSumExpOffset;
            entropyOffsets[row] = rule.EntropyOffset;
            anyMax |= rule.MaxOffset < double.PositiveInfinity;
            anyDeviation |= rule.UsesStandardDeviation && rule.MaxOffset < double.PositiveInfinity;
            anyLse |= rule.LogSumExpOffset < double.PositiveInfinity;
            anyEntropy |= rule.UsesEntropy;
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var logits = input.Values;
            var max32 = logits.amax(new long[] { 1 }, keepdim: true);
            var empty = max32.isneginf();
            var max = max32.to_type(ScalarType.Float64);
            var threshold = TorchScalars.Filled(new long[] { rows, 1 }, double.PositiveInfinity, ScalarType.Float64, device);
            var z = anyDeviation || anyLse || anyEntropy ? logits.to_type(ScalarType.Float64) : null;
            var removed = z?.isneginf();
            if (anyMax)
            {
                // m + a - n·σ, only where a < +∞ (m + ∞ would be +∞ anyway; a -∞ offset gives -∞).
                var term = max.FilledWhere(empty, 0).add(Column(maxOffsets, device), TorchScalars.One);
                if (anyDeviation)
                {
                    var count = removed!.logical_not().sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
                    var mean = z!.FilledWhere(removed!, 0).sum(new long[] { 1 }, keepdim: true).div(count);
                    var deviation = z!.sub(mean).Squared().FilledWhere(removed!, 0).sum(new long[] { 1 }, keepdim: true).div(count).sqrt();

                    // n = 0 contributes nothing even where σ is not finite.
                    var scaled = deviation.mul(Column(deviations, device)).FilledWhere(Column(deviations, device).EqualTo(0), 0);
                    term = term.sub(scaled);
                }

                threshold = threshold.minimum(term);
            }

            if (anyLse || anyEntropy)
            {
                // Empty rows get a shift of 0 so no −∞ − (−∞) appears; their threshold is replaced below.
                var shift = max.FilledWhere(empty, 0);
                var centred = z!.sub(shift);
                var weights = centred.exp();
                var sum = weights.sum(new long[] { 1 }, keepdim: true);
                var logSum = sum.log();
                var logSumExp = shift.Plus(logSum);
                if (anyLse)
                {
                    threshold = threshold.minimum(logSumExp.add(Column(lseOffsets, device), TorchScalars.One));
                }

                if (anyEntropy)
                {
                    var weighted = centred.mul(weights).FilledWhere(removed!, 0).sum(new long[] { 1 }, keepdim: true);
                    var entropy = logSum.sub(weighted.div(sum)).AtLeast(0);
                    threshold = threshold.minimum(logSumExp.sub(entropy).add(Column(entropyOffsets, device), TorchScalars.One));
                }
            }

            // Rounded once, then lowered to the k-th largest (the maximum for k = 1): the row keeps k tokens.
            var floor = minTokensToKeep == 1
                ? max32
                : KthLargestColumn(input, Math.Min(minTokensToKeep, input.Vocab), RepeatedLong(rows, Math.Min(minTokensToKeep, input.Vocab) - 1L));
            var cut = threshold.to_type(ScalarType.Float32).minimum(floor).FilledWhere(empty, double.NegativeInfinity);
            MaskBelowColumn(input, cut, output);
        }

        KeepMaxima(input, output);
        CarryTopPrefix(input, output);
    }

    private static long[] RepeatedLong(int length, long value)
    {
        var values = new long[length];
        Array.Fill(values, value);
        return values;
    }
}

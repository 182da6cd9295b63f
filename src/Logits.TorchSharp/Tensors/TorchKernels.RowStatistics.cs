
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>The checked maxima of <c>amax</c>, copied to the host once.</remarks>
    public void RowMax(LogitBatch x, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        CheckedMaxima(input, emptyStage: null).CopyTo(destination);
    }

    /// <inheritdoc />
    /// <remarks>
    /// In float64 on the device: <c>w = exp(z - m)</c>, <c>S = Σ w</c>, <c>T = Σ_F (z - m) w</c>,
    /// <c>lse = m + ln S</c>, <c>H = max(0, ln S - T/S)</c>; mean and the population standard deviation over the
    /// finite entries (squared deviations from the mean). One <c>[Rows, 5]</c> host copy.
    /// </remarks>
    public void RowStatistics(LogitBatch x, RowStatisticKinds kinds, Span<LogitRowStatistics> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        // No unknown bit, and not the entropy bit without LogSumExp (Entropy includes it; that bit alone would compute nothing).
        if ((kinds & ~RowStatisticKinds.All) != 0
            || (kinds & RowStatisticKinds.Entropy) == (RowStatisticKinds.Entropy & ~RowStatisticKinds.LogSumExp))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(kinds), kinds, "holds an undefined flag");
        }

        float[] maxima = CheckedMaxima(input, emptyStage: null);
        double[] values;
        using (var scope = NewDisposeScope())
        {
            var z = input.Values.to_type(ScalarType.Float64);
            var finite = z.isneginf().logical_not();
            var (count, logSumExp, entropy) = EntropyColumns(z, finite);
            var mean = z.FilledWhere(finite.logical_not(), 0).sum(new long[] { 1 }, keepdim: true).div(count);
            var deviation = z.sub(mean).Squared().FilledWhere(finite.logical_not(), 0)
                .sum(new long[] { 1 }, keepdim: true).div(count).sqrt();
            var table = cat(new[] { count, logSumExp, entropy, mean, deviation }, 1);
            values = input.Read(table);
        }

        for (int row = 0; row < input.Rows; row++)
        {
            int finiteCount = (int)values[5 * row];
            if (finiteCount == 0)
            {
                // Not asked for is NaN even here, so a rule that reads what it did not ask for fails visibly.
                double emptyLogSumExp = (kinds & RowStatisticKinds.LogSumExp) != 0 ? double.NegativeInfinity : double.NaN;
                destination[row] = new LogitRowStatistics(0, float.NegativeInfinity, emptyLogSumExp, double.NaN, double.NaN, double.NaN);
                continue;
            }

            bool entropyAsked = (kinds & RowStatisticKinds.Entropy) == RowStatisticKinds.Entropy;
            bool momentsAsked = (kinds & RowStatisticKinds.Moments) != 0;
            destination[row] = new LogitRowStatistics(
                finiteCount,
                maxima[row],
                (kinds & RowStatisticKinds.LogSumExp) != 0 ? values[(5 * row) + 1] : double.NaN,
                entropyAsked ? values[(5 * row) + 2] : double.NaN,
                momentsAsked ? values[(5 * row) + 3] : double.NaN,
                momentsAsked ? values[(5 * row) + 4] : double.NaN);
        }
    }

    /// <summary>
    /// Per row of the float64 logits <paramref name="z"/> (<paramref name="finite"/> its finite mask), as <c>[Rows, 1]</c>
    /// float64 columns in the caller's scope: the finite count, the log-sum-exp and the entropy
    /// (<c>H = max(0, ln S - T/S)</c>). An empty row's log-sum-exp and entropy are not meaningful.
    /// </summary>
    private static (Tensor Count, Tensor LogSumExp, Tensor Entropy) EntropyColumns(Tensor z, Tensor finite)
    {
        var count = finite.sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);

        // Empty rows get a shift of 0 so no −∞ − (−∞) appears.
        var shift = z.amax(new long[] { 1 }, keepdim: true).FilledWhere(count.EqualTo(0), 0);
        var centred = z.sub(shift);
        var weights = centred.exp();
        var sum = weights.sum(new long[] { 1 }, keepdim: true);
        var logSum = sum.log();
        var weighted = centred.mul(weights).FilledWhere(finite.logical_not(), 0).sum(new long[] { 1 }, keepdim: true);
        var entropy = logSum.sub(weighted.div(sum)).AtLeast(0);
        return (count, shift.Plus(logSum), entropy);
    }
}

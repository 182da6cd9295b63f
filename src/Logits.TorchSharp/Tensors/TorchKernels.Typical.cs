
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// In float64 on the device: the scores <c>|-(z - lse) - H|</c> (<c>+∞</c> for removed tokens), sorted ascending
    /// with their probabilities; the prefix sums count the tokens before the mass is passed, <c>n</c> is capped at
    /// <c>|F|</c> and raised to <c>min(minTokensToKeep, |F|)</c>, and the band is the smallest and largest logit of the
    /// tokens scoring at most the <c>n</c>-th score. One host copy of the two bounds.
    /// </remarks>
    public void TypicalBand(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, Span<float> lower, Span<float> upper)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(mass.Length, input.Rows, nameof(mass));
        RequireRowLength(lower.Length, input.Rows, nameof(lower));
        RequireRowLength(upper.Length, input.Rows, nameof(upper));
        for (int row = 0; row < mass.Length; row++)
        {
            if (!(mass[row] > 0 && mass[row] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mass), mass[row], $"must be in (0, 1] (row {row})");
            }
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        CheckedMaxima(input, "typical");

        double[] bands;
        using (var scope = NewDisposeScope())
        {
            var logits = input.Values;
            var z = logits.to_type(ScalarType.Float64);
            var removed = z.isneginf();
            var finite = removed.logical_not().sum(new long[] { 1 }, keepdim: true);
            var lse = z.logsumexp(1, keepdim: true);
            var logP = z.sub(lse);
            var p = logP.exp();
            var entropy = p.mul(logP).FilledWhere(removed, 0).sum(new long[] { 1 }, keepdim: true).neg().AtLeast(0);

            // The same float64 expression as the CPU kernel: |-(z - lse) - H|.
            var scores = logP.neg().sub(entropy).abs().FilledWhere(removed, double.PositiveInfinity);
            var (sortedScores, order) = scores.sort(1);
            var cumulative = p.gather(1, order).cumsum(1);
            var targets = Column(mass.ToArray(), input.Device);
            var before = (strict ? cumulative.le(targets) : cumulative.lt(targets)).sum(new long[] { 1 }, keepdim: true);
            using var keep = ((long)minTokensToKeep).ToScalar();
            using var one = 1L.ToScalar();

            // Integer arithmetic throughout: n - 1 indexes the sorted scores.
            var n = before.add(one, one).minimum(finite).maximum(finite.clamp_max(keep));
            var cut = sortedScores.gather(1, n.sub(one));
            var kept = scores.le(cut).logical_and(removed.logical_not());
            var low = logits.masked_fill(kept.logical_not(), TorchScalars.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
            var high = logits.masked_fill(kept.logical_not(), TorchScalars.NegativeInfinity).amax(new long[] { 1 }, keepdim: true);
            bands = input.Read(cat(new[] { low, high }, 1));
        }

        for (int row = 0; row < input.Rows; row++)
        {
            bool all = mass[row] >= 1;
            lower[row] = all ? float.NegativeInfinity : (float)bands[2 * row];
            upper[row] = all ? float.PositiveInfinity : (float)bands[(2 * row) + 1];
        }
    }
}

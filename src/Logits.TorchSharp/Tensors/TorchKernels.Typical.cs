
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
            var (low, high) = TypicalBandColumns(input, mass.ToArray(), minTokensToKeep, strict);
            bands = input.Read(cat(new[] { low, high }, 1));
        }

        for (int row = 0; row < input.Rows; row++)
        {
            bool all = mass[row] >= 1;
            lower[row] = all ? float.NegativeInfinity : (float)bands[2 * row];
            upper[row] = all ? float.PositiveInfinity : (float)bands[(2 * row) + 1];
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The bands of <see cref="TypicalBand"/> stay on the device as <c>[Rows, 1]</c> columns (rows with mass 1 get
    /// <c>(-∞, +∞)</c>; an all-<c>-∞</c> row keeps nothing, i.e. stays so), and the mask is applied there: no host read.
    /// </remarks>
    public void MaskOutsideTypical(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(mass.Length, input.Rows, nameof(mass));
        var all = new bool[mass.Length];
        bool anyCut = false;
        for (int row = 0; row < mass.Length; row++)
        {
            if (!(mass[row] > 0 && mass[row] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mass), mass[row], $"must be in (0, 1] (row {row})");
            }

            all[row] = mass[row] >= 1;
            anyCut |= !all[row];
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            if (anyCut)
            {
                var (low, high) = TypicalBandColumns(input, mass.ToArray(), minTokensToKeep, strict);
                var keepAll = tensor(all, new long[] { all.Length, 1 }, device: input.Device);
                var outside = input.Values.lt(low).logical_or(input.Values.gt(high)).logical_and(keepAll.logical_not());
                output.Values.copy_(input.Values.masked_fill(outside, TorchScalars.NegativeInfinity));
            }
            else if (!ReferenceEquals(input, output))
            {
                output.Values.copy_(input.Values);
            }
        }

        // The upper cut may drop a row's maximum and breaks the top prefixes.
        output.ForgetRowFacts();
    }

    /// <summary>
    /// The <c>[Rows, 1]</c> lower and upper bounds of the typical sets on the device (created in the caller's scope). An
    /// all-<c>-∞</c> row gets <c>(+∞, -∞)</c>: nothing is kept. Rows with mass 1 are computed like the others; callers
    /// replace them.
    /// </summary>
    private static (Tensor Lower, Tensor Upper) TypicalBandColumns(TorchLogitBatch input, double[] mass, int minTokensToKeep, bool strict)
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
        var targets = Column(mass, input.Device);
        var before = (strict ? cumulative.le(targets) : cumulative.lt(targets)).sum(new long[] { 1 }, keepdim: true);
        using var keep = ((long)minTokensToKeep).ToScalar();
        using var one = 1L.ToScalar();
        using var none = 0L.ToScalar();

        // Integer arithmetic throughout: n - 1 indexes the sorted scores (clamped at 0 for an empty row, whose n is 0).
        var n = before.add(one, one).minimum(finite).maximum(finite.clamp_max(keep));
        var cut = sortedScores.gather(1, n.sub(one).clamp_min(none));
        var kept = scores.le(cut).logical_and(removed.logical_not());
        var low = logits.masked_fill(kept.logical_not(), TorchScalars.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
        var high = logits.masked_fill(kept.logical_not(), TorchScalars.NegativeInfinity).amax(new long[] { 1 }, keepdim: true);
        return (low, high);
    }
}

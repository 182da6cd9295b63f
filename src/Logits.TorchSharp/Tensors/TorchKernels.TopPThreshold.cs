
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <summary>The tolerance of the inclusive top-p rule (library decision, docs/algorithms/truncation.md#top-p).</summary>
    private const double TopPTolerance = 1e-6;

    /// <inheritdoc />
    /// <remarks>
    /// Sorts each row descending, forms <c>p_i = exp(z_i - lse)</c> and their prefix sums in float64, and
    /// counts the prefix entries below <c>p - 1e-6</c>: that count plus one is the smallest <c>n</c> whose
    /// mass reaches the target (the prefix sums never decrease). <c>n</c> is capped at <c>|F|</c> (mass that
    /// rounding leaves just short of the target keeps every finite token), raised to
    /// <c>min(minTokensToKeep, |F|)</c>, and <c>τ</c> is the <c>n</c>-th sorted value, so tie groups stay whole.
    /// Rows with <c>p ≥ 1</c> give <c>-∞</c> after the input checks.
    /// </remarks>
    public void TopPThreshold(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, Span<float> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(p.Length, input.Rows, nameof(p));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        var targets = new double[p.Length];
        bool anyCut = false;
        for (int row = 0; row < p.Length; row++)
        {
            if (!(p[row] >= 0 && p[row] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(p), p[row], $"must be in [0, 1] (row {row})");
            }

            targets[row] = p[row] - TopPTolerance;
            anyCut |= p[row] < 1;
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        CheckedMaxima(input, "top-p");
        if (!anyCut)
        {
            destination.Fill(float.NegativeInfinity);
            return;
        }

        double[] thresholds;
        using (var scope = NewDisposeScope())
        {
            thresholds = input.Read(TopPThresholdColumn(input, targets, minTokensToKeep));
        }

        for (int row = 0; row < thresholds.Length; row++)
        {
            destination[row] = p[row] >= 1 ? float.NegativeInfinity : (float)thresholds[row];
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The thresholds of <see cref="TopPThreshold"/> stay on the device as a <c>[Rows, 1]</c> column, so the call makes
    /// no host read; an all-<c>-∞</c> row gets threshold <c>-∞</c> there (its sorted first value) and stays as it is. The
    /// row maxima the batch remembers stay valid (the cut always keeps a row's largest value).
    /// </remarks>
    public void MaskBelowTopP(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(p.Length, input.Rows, nameof(p));
        var targets = new double[p.Length];
        bool anyCut = false;
        for (int row = 0; row < p.Length; row++)
        {
            if (!(p[row] >= 0 && p[row] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(p), p[row], $"must be in [0, 1] (row {row})");
            }

            // p = 1 keeps every finite token: every prefix sum is below +∞, so n = |F|.
            targets[row] = p[row] < 1 ? p[row] - TopPTolerance : double.PositiveInfinity;
            anyCut |= p[row] < 1;
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using var scope = NewDisposeScope();
        if (anyCut)
        {
            MaskBelowColumn(input, TopPThresholdColumn(input, targets, minTokensToKeep), output);
        }
        else if (!ReferenceEquals(input, output))
        {
            output.Values.copy_(input.Values);
        }

        KeepMaxima(input, output);
        CarryTopPrefix(input, output);
    }

    /// <summary>
    /// The <c>[Rows, 1]</c> top-p thresholds on the device (created in the caller's scope): the rows sorted descending,
    /// <c>p_i = exp(z_i - lse)</c> and their prefix sums in float64; <c>n</c> is one more than the number of prefix sums
    /// below the target, capped at <c>|F|</c> and raised to <c>min(minTokensToKeep, |F|)</c>; <c>τ</c> is the <c>n</c>-th
    /// sorted value (<c>-∞</c> for an all-<c>-∞</c> row, whose prefix sums are NaN).
    /// </summary>
    /// <remarks>
    /// When the batch remembers top prefixes (a top-k mask ran earlier in the pipeline call), only the <c>m</c> largest
    /// values of each row are sorted (<c>topk</c>), <c>m</c> the largest prefix or <c>minTokensToKeep</c>: every finite
    /// value past them ties with the <c>m</c>-th, so a cut beyond the prefix lands on that value, and the log-sum-exp is
    /// taken from the prefix alone: <c>Σ exp(z - max)</c> over the prefix plus, for the finite values past it, their count
    /// times <c>exp(z_m - max)</c> (one comparison pass over the row, no exponential of it).
    /// </remarks>
    private static Tensor TopPThresholdColumn(TorchLogitBatch input, double[] targets, int minTokensToKeep)
    {
        int m = input.Vocab;
        if (input.TryGetTopPrefix(out var prefix))
        {
            m = minTokensToKeep;
            foreach (int length in prefix)
            {
                m = Math.Max(m, length);
            }

            m = Math.Min(m, input.Vocab);
        }

        Tensor sorted;
        Tensor lse;
        if (m < input.Vocab)
        {
            (sorted, _) = input.Values.topk(m, 1, largest: true, sorted: true);
            var top = sorted.to_type(ScalarType.Float64);
            var first = top.narrow(1, 0, 1);
            var last = sorted.narrow(1, m - 1, 1);

            // Values equal to the m-th outside the prefix: all entries at least the m-th, less those in the prefix.
            var past = input.Values.ge(last).sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64)
                .sub_(sorted.ge(last).sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64));
            var sum = top.sub(first).exp_().sum(new long[] { 1 }, keepdim: true)
                .PlusInPlace(past.mul_(last.to_type(ScalarType.Float64).sub(first).exp_()));
            lse = first.Plus(sum.log_());
        }
        else
        {
            (sorted, _) = input.Values.sort(1, descending: true);
            lse = sorted.to_type(ScalarType.Float64).logsumexp(1, keepdim: true);
        }

        var cumulative = sorted.to_type(ScalarType.Float64).sub(lse).exp_().cumsum(1);
        var below = cumulative.lt(Column(targets, input.Device)).sum(new long[] { 1 }, keepdim: true);
        var finite = sorted.isneginf().logical_not().sum(new long[] { 1 }, keepdim: true);
        using var one = 1L.ToScalar();
        using var none = 0L.ToScalar();
        using var keep = ((long)minTokensToKeep).ToScalar();

        // Integer arithmetic throughout: n - 1 indexes the sorted values (0 for an empty row, whose n is 0).
        var n = below.add(one, one).minimum(finite).maximum(finite.clamp_max(keep));
        return sorted.gather(1, n.sub(one).clamp_min(none));
    }
}

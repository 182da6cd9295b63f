using System;
using Logits.Tensors;
using TorchSharp;
using static TorchSharp.torch;

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
        var input = RequireTorch(x, nameof(x));
        var output = RequireLike(input, destination, nameof(destination));
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
    }

    /// <summary>
    /// The <c>[Rows, 1]</c> top-p thresholds on the device (created in the caller's scope): the rows sorted descending,
    /// <c>p_i = exp(z_i - lse)</c> and their prefix sums in float64; <c>n</c> is one more than the number of prefix sums
    /// below the target, capped at <c>|F|</c> and raised to <c>min(minTokensToKeep, |F|)</c>; <c>τ</c> is the <c>n</c>-th
    /// sorted value (<c>-∞</c> for an all-<c>-∞</c> row, whose prefix sums are NaN).
    /// </summary>
    private static Tensor TopPThresholdColumn(TorchLogitBatch input, double[] targets, int minTokensToKeep)
    {
        var (sorted, _) = input.Values.sort(1, descending: true);
        var sorted64 = sorted.to_type(ScalarType.Float64);
        var lse = sorted64.logsumexp(1, keepdim: true);
        var cumulative = sorted64.sub(lse).exp_().cumsum(1);
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

using System;
using Logits.Tensors;
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

        CheckedRowMax(input.Tensor, "input", "top-p");
        if (!anyCut)
        {
            destination.Fill(float.NegativeInfinity);
            return;
        }

        long[] below;
        long[] finite;
        float[] thresholds;
        using (var scope = NewDisposeScope())
        {
            var (sorted, _) = input.Tensor.sort(1, descending: true);
            var sorted64 = sorted.to_type(ScalarType.Float64);
            var lse = sorted64.logsumexp(1, keepdim: true);
            var cumulative = sorted64.sub(lse).exp_().cumsum(1);
            below = TorchHostReads.Int64s(cumulative.lt(Column(targets, input.Device)).sum(1));
            finite = TorchHostReads.Int64s(input.Tensor.isneginf().logical_not().sum(1));

            var columns = new long[input.Rows];
            for (int row = 0; row < columns.Length; row++)
            {
                long n = Math.Min(below[row] + 1, finite[row]);
                n = Math.Max(n, Math.Min(minTokensToKeep, finite[row]));
                columns[row] = n - 1;
            }

            thresholds = TorchHostReads.Singles(sorted.gather(1, Indices(columns, input.Rows, input.Device)));
        }

        for (int row = 0; row < thresholds.Length; row++)
        {
            destination[row] = p[row] >= 1 ? float.NegativeInfinity : thresholds[row];
        }
    }
}

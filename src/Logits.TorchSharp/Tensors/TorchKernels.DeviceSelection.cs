using Logits.Randomness;
using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// The host draws <c>Vocab</c> uniforms per row from a clone of the row's stream and uploads them (host to device is
    /// not a read); on the device the <c>j</c>-th finite entry takes the <c>j</c>-th uniform (a prefix count of the finite
    /// mask), the float64 scores <c>z - ln(-ln u)</c> of the finite entries go to <c>argmax</c> (first maximal index), and
    /// the tokens cross to the host together with each row's finite count in one read, with the batch's deferred checks.
    /// The real streams then advance by exactly that count, so they end where the CPU kernel leaves them and the tokens are
    /// the CPU backend's (up to a last-bit difference of libm's <c>ln</c>, which only matters between two near-equal scores).
    /// </remarks>
    public void SampleGumbel(LogitBatch x, IReadOnlyList<IRandomSource> streams, Span<int> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        CpuKernels.ValidateStreams(streams, input.Rows);
        if (!IsTrusted(input))
        {
            CheckedMaxima(input, "gumbel");
        }

        int rows = input.Rows;
        int vocab = input.Vocab;
        var uniforms = new double[(long)rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            var ahead = streams[r].Clone();
            for (int i = 0; i < vocab; i++)
            {
                uniforms[((long)r * vocab) + i] = ahead.NextOpenDouble();
            }
        }

        double[] read;
        using (var scope = NewDisposeScope())
        {
            var z = input.Values.to_type(ScalarType.Float64);
            var finite = z.isneginf().logical_not();
            using var one = 1L.ToScalar();
            using var none = 0L.ToScalar();
            var rank = finite.to_type(ScalarType.Int64).cumsum(1).sub(one).clamp_min(none);
            var u = tensor(uniforms, new long[] { rows, vocab }, ScalarType.Float64, input.Device).gather(1, rank);
            var scores = z.sub(u.log().neg().log()).masked_fill(finite.logical_not(), TorchScalars.NegativeInfinity);
            var tokens = scores.argmax(1, true).to_type(ScalarType.Float64);
            var counts = finite.sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
            read = input.Read(cat(new[] { tokens, counts }, 1));
        }

        for (int r = 0; r < rows; r++)
        {
            long count = (long)read[(2 * r) + 1];
            if (count == 0)
            {
                ThrowHelper.ThrowNoViableToken(r, "gumbel");
            }

            destination[r] = (int)read[2 * r];
            for (long j = 0; j < count; j++)
            {
                streams[r].NextUInt64();
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// On the device in float64: <c>lse</c>, the cutoff (the smallest finite value whose surprise <c>-(z - lse)/ln 2</c> is
    /// within the limit, else the maximum), the kept weights <c>exp(z - m)</c>, their ascending prefix sums and
    /// <c>searchsorted</c> of <c>u·S</c> (falling back to the last kept index with weight when rounding leaves <c>u·S</c> at
    /// the end). Token, probability and the row's finite count cross to the host in one read, with the batch's deferred
    /// checks.
    /// </remarks>
    public void SampleWithinSurprise(LogitBatch x, ReadOnlySpan<double> maxSurprise, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities)
    {
        var input = RequireTorch(x, nameof(x));
        CpuKernels.ValidateSurpriseSampling(input.Rows, maxSurprise, uniforms, destination.Length, probabilities.Length);
        if (!IsTrusted(input))
        {
            CheckedMaxima(input, "mirostat");
        }

        int rows = input.Rows;
        double[] read;
        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var z = input.Values.to_type(ScalarType.Float64);
            var removed = z.isneginf();
            var max = z.amax(new long[] { 1 }, keepdim: true);
            var empty = max.isneginf();
            var shift = max.FilledWhere(empty, 0);
            var lse = shift.Plus(z.sub(shift).exp().sum(new long[] { 1 }, keepdim: true).log());

            // The same float64 expression as the CPU kernel: -(z - lse) / ln 2 ≤ limit.
            var within = z.sub(lse).neg().DividedBy(CpuKernels.Ln2).le(Column(maxSurprise.ToArray(), device)).logical_and(removed.logical_not());
            var lowest = z.masked_fill(within.logical_not(), TorchScalars.PositiveInfinity).amin(new long[] { 1 }, keepdim: true);
            var cutoff = where(lowest.isposinf(), max, lowest);
            var (token, probability) = DrawAtOrAbove(z, shift, cutoff, uniforms);
            var finite = removed.logical_not().sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
            read = input.Read(cat(new[] { token.to_type(ScalarType.Float64), probability, finite }, 1));
        }

        for (int r = 0; r < rows; r++)
        {
            if (read[(3 * r) + 2] == 0)
            {
                ThrowHelper.ThrowNoViableToken(r, "mirostat");
            }

            destination[r] = (int)read[3 * r];
            probabilities[r] = read[(3 * r) + 1];
        }
    }

    /// <summary>
    /// The kept-set draw of <see cref="SampleWithinSurprise"/> and <see cref="SampleEstimatedTopK"/> on the device (in the
    /// caller's scope): float64 weights <c>exp(z - shift)</c> of the entries <c>z ≥ cutoff</c>, their ascending prefix sums,
    /// <c>searchsorted</c> of <c>u·S</c> (the last kept index with weight when rounding leaves <c>u·S</c> at the end); the
    /// <c>[Rows, 1]</c> token and renormalised probability columns.
    /// </summary>
    private static (Tensor Token, Tensor Probability) DrawAtOrAbove(Tensor z, Tensor shift, Tensor cutoff, ReadOnlySpan<double> uniforms)
    {
        long rows = z.shape[0];
        long vocab = z.shape[1];
        var kept = z.ge(cutoff);
        var weights = z.sub(shift).exp().masked_fill(kept.logical_not(), TorchScalars.Zero);
        var cumulative = weights.cumsum(1);
        var total = cumulative.narrow(1, vocab - 1, 1);
        var target = Column(uniforms.ToArray(), z.device).mul(total);
        var found = searchsorted(cumulative, target, right: true);

        // Rounding may leave u·S at the end: the last index with weight (largest index of a positive weight).
        var positions = TorchScalars.Range(0, vocab, ScalarType.Int64, z.device).expand(rows, vocab);
        var lastPositive = positions.FilledWhere(weights.le(TorchScalars.Zero), -1L).amax(new long[] { 1 }, keepdim: true);
        using var end = vocab.ToScalar();
        var token = where(found.ge(end), lastPositive, found).clamp_min(TorchScalars.Zero);
        return (token, weights.gather(1, token).div(total));
    }
}

using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// On the device in float64: <c>lse</c>, one descending <c>sort</c> of each row, the first <c>min(m, Vocab)</c>
    /// probabilities and the pair sums of the Zipf estimate (the <c>t_i</c> and <c>2^μ</c> come from the host, computed as the
    /// CPU kernel does), <c>k</c>, the cutoff <c>s_K</c> by a gather, and <see cref="SampleWithinSurprise"/>'s draw. Token,
    /// probability and the row's finite count cross to the host in one read, with the batch's deferred checks. Sums and
    /// <c>ln</c>/<c>pow</c> are libtorch's, so a <c>k</c> within rounding distance of an integer may round the other way.
    /// </remarks>
    public void SampleEstimatedTopK(LogitBatch x, ReadOnlySpan<double> mu, int m, int nVocab, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities)
    {
        var input = RequireTorch(x, nameof(x));
        CpuKernels.ValidateEstimatedTopK(input.Rows, mu, m, nVocab, uniforms, destination.Length, probabilities.Length);
        if (!IsTrusted(input))
        {
            CheckedMaxima(input, "mirostat");
        }

        int rows = input.Rows;
        int top = Math.Min(m, input.Vocab);
        var twoToMu = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            twoToMu[r] = Math.Pow(2, mu[r]);
        }

        double[] read;
        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var z = input.Values.to_type(ScalarType.Float64);
            var finite = z.isneginf().logical_not().sum(new long[] { 1 }, keepdim: true, type: ScalarType.Float64);
            var max = z.amax(new long[] { 1 }, keepdim: true);
            var shift = max.FilledWhere(max.isneginf(), 0);
            var lse = shift.Plus(z.sub(shift).exp().sum(new long[] { 1 }, keepdim: true).log());
            var (sorted, _) = z.sort(1, descending: true);
            var k = finite;
            if (top >= 2)
            {
                var t = new double[top - 1];
                for (int i = 1; i < top; i++)
                {
                    t[i - 1] = Math.Log((i + 1.0) / i);
                }

                var q = sorted.narrow(1, 0, top).sub(lse).exp();
                var qi = q.narrow(1, 0, top - 1);
                var qNext = q.narrow(1, 1, top - 1);
                var usable = qi.gt(TorchScalars.Zero).logical_and(qNext.gt(TorchScalars.Zero));
                var weights = tensor(t, new long[] { 1, top - 1 }, ScalarType.Float64, device).mul(usable.to_type(ScalarType.Float64));
                var b = qi.div(qNext).log().FilledWhere(usable.logical_not(), 0);
                var sHat = weights.mul(b).sum(new long[] { 1 }, keepdim: true)
                    .div(weights.mul(tensor(t, new long[] { 1, top - 1 }, ScalarType.Float64, device)).sum(new long[] { 1 }, keepdim: true));
                var epsilon = sHat.Minus(1);
                var power = TorchScalars.Filled(new long[] { rows, 1 }, nVocab, ScalarType.Float64, device).pow(epsilon.neg());
                var general = epsilon.mul(Column(twoToMu, device)).div(power.SubtractedFrom(1));
                var nearOne = Column(twoToMu, device).DividedBy(Math.Log(nVocab));
                using var small = 1e-6.ToScalar();
                var estimate = where(epsilon.abs().lt(small), nearOne, general).pow(sHat.reciprocal());

                // ŝ ≤ 0 or no usable pair (ŝ NaN), or an estimate that is not finite: keep every finite token.
                var valid = usable.any(1, keepdim: true).logical_and(sHat.Above(0)).logical_and(estimate.isfinite());
                k = where(valid, estimate, finite);
            }

            var count = k.floor().AtLeast(1).minimum(finite.AtLeast(1)).to_type(ScalarType.Int64);
            using var one = 1L.ToScalar();
            var cutoff = sorted.gather(1, count.sub(one));
            var (token, probability) = DrawAtOrAbove(z, shift, cutoff, uniforms);
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
}

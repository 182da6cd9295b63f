
namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// <c>w = exp(z - m)</c> is computed in float32 (as the CPU kernel does) and widened to float64 for the
    /// ascending prefix sums <c>C</c>. <c>searchsorted(C, u·S, right: true)</c> is then the smallest <c>i</c> with
    /// <c>u·S &lt; C_i</c>; such an <c>i</c> has <c>C_i &gt; C_(i-1)</c>, so its weight is positive. If rounding leaves
    /// <c>u·S ≥ C_last</c>, the last index with <c>w &gt; 0</c> is returned instead.
    /// </remarks>
    public void Sample(LogitBatch x, ReadOnlySpan<double> uniforms, Span<int> destination)
    {
        var input = RequireTorch(x, nameof(x));
        RequireRowLength(uniforms.Length, input.Rows, nameof(uniforms));
        RequireRowLength(destination.Length, input.Rows, nameof(destination));
        for (int row = 0; row < uniforms.Length; row++)
        {
            if (!(uniforms[row] >= 0 && uniforms[row] < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), uniforms[row], $"must be in [0, 1) (row {row})");
            }
        }

        // Trusted entries and unknown maxima: empty rows are found on the device and read with the tokens.
        bool checkOnDevice = input.EntriesChecked && !input.TryGetMaxima(out _);
        float[]? maxima = checkOnDevice ? null : CheckedMaxima(input, "sample");

        using var scope = NewDisposeScope();
        var logits = input.Values;
        var shift = maxima is null ? logits.amax(new long[] { 1 }, keepdim: true) : Column(maxima, input.Device);
        var weights = logits.sub(shift).exp_();
        var cumulative = weights.to_type(ScalarType.Float64).cumsum(1);
        var total = cumulative.narrow(1, input.Vocab - 1, 1);
        var targets = Column(uniforms.ToArray(), input.Device).mul(total);
        var chosen = searchsorted(cumulative, targets, right: true);
        double[] read = input.Read(maxima is null ? cat(new[] { chosen.to_type(ScalarType.Float64), shift.to_type(ScalarType.Float64) }, 1) : chosen);
        int stride = maxima is null ? 2 : 1;
        for (int row = 0; row < input.Rows; row++)
        {
            if (maxima is null && double.IsNegativeInfinity(read[(row * stride) + 1]))
            {
                ThrowHelper.ThrowNoViableToken(row, "sample");
            }
        }

        for (int row = 0; row < input.Rows; row++)
        {
            long token = (long)read[row * stride];
            if (token >= input.Vocab)
            {
                // u·S rounded up to C_last: fall back to the last token that has weight.
                var positive = weights.select(0, row).gt(TorchScalars.Zero).nonzero();
                token = TorchHostReads.Item<long>(positive.select(0, positive.shape[0] - 1));
            }

            destination[row] = (int)token;
        }
    }
}

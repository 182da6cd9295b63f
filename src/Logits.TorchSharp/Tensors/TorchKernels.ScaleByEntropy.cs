using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <summary>
    /// Above this, a row's <c>|minimum| + 2·|range|</c> might give a temperature whose float32 reciprocal is 0; below it
    /// (with <c>greedyBelow &gt; 0</c> and a moderate exponent) every factor is finite and positive, so the device path
    /// cannot meet <see cref="Scale"/>'s argument error.
    /// </summary>
    private const double LargestDeviceTemperature = 1e30;

    /// <inheritdoc />
    /// <remarks>
    /// Inside a pipeline call, in place on trusted entries, with temperatures that cannot make a factor of 0: on the device,
    /// the float64 entropies and finite counts (as <see cref="RowStatistics"/>), <c>T</c> per row, the float32 factors
    /// <c>(float)(1/T)</c> (1 for greedy rows and rows with at most one finite entry), one multiplication whose overflow
    /// check is deferred to the batch's next host read (stage <c>"scale"</c>), and the argmax mask of the greedy rows: no
    /// host read. Otherwise the composition of <see cref="RowStatistics"/>, <see cref="Scale"/> and
    /// <see cref="MaskExceptArgMax"/>. <c>ln</c> and <c>pow</c> are libtorch's, so a factor may differ from the CPU
    /// backend's in its last bit.
    /// </remarks>
    public void ScaleByEntropy(LogitBatch x, ReadOnlySpan<double> minimum, ReadOnlySpan<double> range, double exponent, double greedyBelow, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        CpuKernels.ValidateEntropyTemperature(input.Rows, minimum, range, exponent, greedyBelow);
        bool onDevice = ReferenceEquals(input, output) && input.InPipelineCall && IsTrusted(input)
            && greedyBelow > 0 && exponent <= 1e6;
        for (int r = 0; onDevice && r < input.Rows; r++)
        {
            onDevice = Math.Abs(minimum[r]) + (2 * Math.Abs(range[r])) <= LargestDeviceTemperature;
        }

        if (!onDevice)
        {
            CpuKernels.ScaleByEntropyComposed(this, input, minimum, range, exponent, greedyBelow, output);
            return;
        }

        using (var scope = NewDisposeScope())
        {
            Device device = input.Device;
            var values = input.Values;
            var z = values.to_type(ScalarType.Float64);
            var (count, _, entropy) = EntropyColumns(z, z.isneginf().logical_not());
            var active = count.Above(1);
            var normalized = entropy.div(count.log());
            var temperature = Column(minimum.ToArray(), device).add(Column(range.ToArray(), device).mul(normalized.Power(exponent)), TorchScalars.One);
            using var threshold = greedyBelow.ToScalar();
            var greedy = active.logical_and(temperature.lt(threshold));
            var scaled = active.logical_and(greedy.logical_not());
            var factors = where(scaled, temperature.reciprocal(), ones_like(temperature)).to_type(ScalarType.Float32);
            values.mul_(factors);
            input.DeferRowCheck(values, "scale");

            var tokens = values.argmax(1, true);
            var positions = TorchScalars.Range(0, input.Vocab, ScalarType.Int64, device).unsqueeze(0);
            values.masked_fill_(positions.ne(tokens).logical_and(greedy), TorchScalars.NegativeInfinity);
        }

        // Positive factors and the argmax mask keep every row's order: the top prefixes stay; the maxima moved.
        input.ForgetMaxima();
    }
}

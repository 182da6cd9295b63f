using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// The threshold column <c>(float)(amax + offset)</c> is formed on the device in float64 and rounded to float32, as
    /// the CPU kernel does on the host; no host read. Every row keeps its maximum (offsets are at most 0), so remembered
    /// maxima carry over.
    /// </remarks>
    public void MaskBelowMaxPlus(LogitBatch x, ReadOnlySpan<double> offsets, LogitBatch destination)
    {
        var (input, output) = RequirePair(x, destination);
        RequireRowLength(offsets.Length, input.Rows, nameof(offsets));
        CpuKernels.ValidateOffsets(offsets);
        CheckInput(input, emptyStage: null);
        ResolveBeforeWritingElsewhere(input, output);
        using (var scope = NewDisposeScope())
        {
            var maxima = input.Values.amax(new long[] { 1 }, keepdim: true).to_type(ScalarType.Float64);
            var thresholds = maxima.add(Column(offsets.ToArray(), input.Device), TorchScalars.One).to_type(ScalarType.Float32);
            MaskBelowColumn(input, thresholds, output);
        }

        KeepMaxima(input, output);
        CarryTopPrefix(input, output);
    }
}

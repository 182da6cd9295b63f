using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Padding is dropped and repeated (row, id) pairs are resolved on the host (the last edit wins, as on the CPU); the
    /// touched values are gathered on the device, raised in float64 (<c>where(z == 0 or z = -∞, z, z + |z|·g)</c>),
    /// rounded to float32 with <c>+∞</c> saturated at <c>float.MaxValue</c>, and written back with one <c>index_put_</c>.
    /// Inside a pipeline call on trusted entries nothing is read; otherwise the touched values are read back once and
    /// checked first, so a failed call leaves the batch unchanged.
    /// </remarks>
    public void BoostTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> growth)
    {
        var output = RequireTorch(destination, nameof(destination));
        RequireIdLayout(tokenIds.Length, output.Rows, nameof(tokenIds));
        int perRow = tokenIds.Length / output.Rows;
        CpuKernels.ValidateGrowth(tokenIds, growth, perRow);
        var entries = TouchedEntries.Collect(tokenIds, perRow, output.Vocab);
        if (entries.Count == 0)
        {
            return;
        }

        bool trusted = output.InPipelineCall && IsTrusted(output);
        double[] read;
        using (var scope = NewDisposeScope())
        {
            Device device = output.Device;
            var (indices, before) = entries.Gather(output.Values, device);
            var z = before.to_type(ScalarType.Float64);
            var raised = z.add(z.abs().mul(entries.Select(growth, device)), TorchScalars.One);
            var unchanged = z.EqualTo(0).logical_or(z.isneginf());
            var rounded = where(unchanged, z, raised).to_type(ScalarType.Float32);
            var after = rounded.FilledWhere(rounded.isposinf(), float.MaxValue);
            if (!trusted)
            {
                read = output.Read(before);
                if (!HasInvalid(read))
                {
                    read = Array.Empty<double>();
                }
            }
            else
            {
                read = Array.Empty<double>();
            }

            if (read.Length == 0)
            {
                // A raised entry may pass the row maximum and the top prefix.
                output.ForgetRowFacts();
                output.Values.index_put_(after, indices);
                return;
            }
        }

        ThrowFirstInvalidTouched(read.Concat(read).ToArray(), entries.Rows, entries.Columns, "input");
    }
}

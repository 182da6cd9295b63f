using Logits.Tensors.Cpu;

namespace Logits.TorchSharp.Tensors;

internal sealed partial class TorchKernels
{
    /// <inheritdoc />
    /// <remarks>
    /// Padding is dropped and repeated (row, id) pairs are resolved on the host (the last edit wins, as on the CPU);
    /// the touched values are gathered on the device, penalised in float64 (<c>where(z &gt; 0, z / θ, z·θ) - δ</c>, below
    /// <c>-float.MaxValue</c> to <c>-∞</c>, above <c>float.MaxValue</c> to <c>+∞</c>), rounded to float32 and written back
    /// with one <c>index_put_</c>. Inside a pipeline call on trusted entries the check of the written values is deferred
    /// to the batch's next host read (same exception), so the call makes no host read; otherwise the values before and
    /// after are read back in one transfer and checked first, so a failed call leaves the batch unchanged.
    /// </remarks>
    public void PenalizeTokens(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets)
    {
        var output = RequireTorch(destination, nameof(destination));
        RequireIdLayout(tokenIds.Length, output.Rows, nameof(tokenIds));
        int perRow = tokenIds.Length / output.Rows;
        CpuKernels.ValidatePenalties(tokenIds, divisors, offsets, perRow);
        var entries = TouchedEntries.Collect(tokenIds, perRow, output.Vocab);
        if (entries.Count == 0)
        {
            return;
        }

        bool defer = output.InPipelineCall && IsTrusted(output);
        double[] read;
        using (var scope = NewDisposeScope())
        {
            Device device = output.Device;
            var (indices, before) = entries.Gather(output.Values, device);
            var z = before.to_type(ScalarType.Float64);
            var theta = entries.Select(divisors, device);
            var scaled = where(z.gt(TorchScalars.Zero), z.div(theta), z.mul(theta));
            var result = scaled.sub(entries.Select(offsets, device));
            using var lowest = (-(double)float.MaxValue).ToScalar();
            var after = result.FilledWhere(result.Above(float.MaxValue), double.PositiveInfinity)
                .FilledWhere(result.lt(lowest), double.NegativeInfinity)
                .to_type(ScalarType.Float32);
            if (defer)
            {
                output.ForgetRowFacts();
                output.Values.index_put_(after, indices);
                output.DeferTouchedCheck(after, entries.Rows, entries.Columns, "penalize");
                return;
            }

            read = output.Read(cat(new[] { before, after }, 0));
            if (!HasInvalid(read))
            {
                output.ForgetRowFacts();
                output.Values.index_put_(after, indices);
                return;
            }
        }

        ThrowFirstInvalidTouched(read, entries.Rows, entries.Columns, "penalize");
    }

    private static bool HasInvalid(double[] values)
    {
        foreach (double value in values)
        {
            if (double.IsNaN(value) || double.IsPositiveInfinity(value))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Throws at the lowest (row, token) whose value before (<c>read[0, n)</c>, stage <c>"input"</c>) or after
    /// (<c>read[n, 2n)</c>, <paramref name="stage"/>) is NaN or <c>+∞</c>.
    /// </summary>
    private static void ThrowFirstInvalidTouched(double[] read, long[] rows, long[] columns, string stage)
    {
        int n = rows.Length;
        int best = -1;
        for (int j = 0; j < n; j++)
        {
            bool invalid = IsInvalid(read[j]) || IsInvalid(read[n + j]);
            if (invalid && (best < 0 || rows[j] < rows[best] || (rows[j] == rows[best] && columns[j] < columns[best])))
            {
                best = j;
            }
        }

        if (best >= 0)
        {
            bool input = IsInvalid(read[best]);
            ThrowHelper.ThrowInvalidLogits((int)rows[best], (int)columns[best], (float)read[input ? best : n + best], input ? "input" : stage);
        }

        static bool IsInvalid(double value) => double.IsNaN(value) || double.IsPositiveInfinity(value);
    }
}

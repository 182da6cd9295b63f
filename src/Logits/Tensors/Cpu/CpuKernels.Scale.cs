namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void Scale(LogitBatch x, ReadOnlySpan<float> factors, LogitBatch destination)
    {
        var (source, target) = AsCpuPair(x, destination, factors.Length, nameof(factors));
        for (int r = 0; r < factors.Length; r++)
        {
            if (!(factors[r] > 0) || !float.IsFinite(factors[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(factors), factors[r], $"must be finite and greater than 0 (row {source.RowOffset + r})");
            }
        }

        var copy = RentCopy(factors);
        try
        {
            // In place on a row with a known support: scale the supported entries (−∞ · factor = −∞ elsewhere).
            var support = ReferenceEquals(source, target) ? target.Support : null;
            if (support is null)
            {
                target.Support?.ForgetAll();
            }

            RowRunner.Run(source.Rows, source.Vocab, new ScaleJob(source.Storage, target.Storage, source.Vocab, copy, support));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(copy);
        }
    }

    /// <summary><c>destination = factor * x</c> with NaN/+∞ checks fused into the loop (an overflow is stage <c>"scale"</c>); in place allowed.</summary>
    internal static void ScaleRow(ReadOnlySpan<float> x, float factor, Span<float> destination, int row) =>
        SimdLoops.MapChecked<MultiplyOperator>(x, factor, destination, row, "scale");

    private static void ScaleOnSupport(Span<float> row, ReadOnlySpan<int> ids, float factor, int rowIndex)
    {
        foreach (int id in ids)
        {
            float input = row[id];
            if (RowMath.IsInvalid(input))
            {
                ThrowHelper.ThrowInvalidLogits(rowIndex, id, input, "input");
            }

            float result = input * factor;
            if (RowMath.IsInvalid(result))
            {
                ThrowHelper.ThrowInvalidLogits(rowIndex, id, result, "scale");
            }

            row[id] = result;
        }
    }

    private readonly struct ScaleJob(Memory<float> x, Memory<float> destination, int vocab, float[] factors, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var target = destination.Span.Slice(row * vocab, vocab);
            if (support is not null)
            {
                support.ForgetMaximum(row);
                if (support.TryGetSupport(row, out var ids))
                {
                    ScaleOnSupport(target, ids, factors[row], row);
                    return;
                }
            }

            ScaleRow(x.Span.Slice(row * vocab, vocab), factors[row], target, row);
        }
    }
}

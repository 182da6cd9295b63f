
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void LargestValues(LogitBatch x, int count, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        if (count < 1 || count > source.Vocab)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(count), count, $"must be in [1, {source.Vocab}]");
        }

        if (destination.Length != (long)source.Rows * count)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but Rows * count = {(long)source.Rows * count} are required.");
        }

        var results = ArrayPool<float>.Shared.Rent(destination.Length);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new LargestValuesJob(source.Storage, results, source.Vocab, count, source.Support));
            results.AsSpan(0, destination.Length).CopyTo(destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>The <c>destination.Length</c> largest values of a checked row, descending (−∞ counts as a value).</summary>
    internal static void LargestValuesRow(ReadOnlySpan<float> x, Span<float> destination)
    {
        int k = destination.Length;
        if (k <= OrderStatistics.HeapLimit && k <= x.Length / 8)
        {
            // One pass with a min-heap, then sort the k survivors.
            OrderStatistics.TopValues(x, destination);
        }
        else
        {
            var copy = ArrayPool<float>.Shared.Rent(x.Length);
            try
            {
                var values = copy.AsSpan(0, x.Length);
                x.CopyTo(values);
                values.Sort();
                values[^k..].CopyTo(destination);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(copy);
            }
        }

        destination.Sort();
        destination.Reverse();
    }

    private readonly struct LargestValuesJob(Memory<float> x, float[] results, int vocab, int count, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            var target = results.AsSpan(row * count, count);

            // Checks the row (NaN/+∞ throw) or finds it checked since its last write.
            RowMaxOf(values, row, support);
            LargestValuesRow(values, target);
        }
    }
}

using System.Numerics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void ArgMax(LogitBatch x, Span<int> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        if (source.Rows == 1)
        {
            // One row: no row runner and no rented result buffer.
            destination[0] = ArgMaxOf(source.Storage.Span[..source.Vocab], 0, source.Support);
            return;
        }

        var results = ArrayPool<int>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new ArgMaxJob(source.Storage, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(results);
        }
    }

    /// <summary>
    /// The lowest index holding the row maximum. Float equality makes <c>-0 = +0</c>, unlike
    /// <c>TensorPrimitives.IndexOfMax</c>, which prefers +0 and returns 0 for an all -∞ row.
    /// </summary>
    internal static int ArgMaxRow(ReadOnlySpan<float> x, int row) =>
        FirstIndexOf(x, RowMath.NonEmptyMax(x, row, "argmax"));

    /// <summary>The first index holding <paramref name="m"/>, which must occur in <paramref name="x"/>.</summary>
    private static int FirstIndexOf(ReadOnlySpan<float> x, float m)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var target = new Vector<float>(m);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                if (Vector.EqualsAny(new Vector<float>(x.Slice(i)), target))
                {
                    break;
                }
            }
        }

        for (; i < x.Length; i++)
        {
            if (x[i] == m)
            {
                return i;
            }
        }

        // Unreachable: the maximum is an element of the row.
        throw new InvalidOperationException("The row maximum was not found in the row.");
    }

    private readonly struct ArgMaxJob(Memory<float> x, int[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row) => results[row] = ArgMaxOf(x.Span.Slice(row * vocab, vocab), row, support);
    }

    /// <summary>The argmax of one row, through what the pipeline call knows about it (support, checked maximum).</summary>
    private static int ArgMaxOf(ReadOnlySpan<float> values, int row, RowSupport? support)
    {
        if (support is null)
        {
            return ArgMaxRow(values, row);
        }

        if (support.TryGetSupport(row, out var ids) && ids.Length > 0)
        {
            return ids[RowSupport.Reduce<ArgMaxReduction, int>(values, ids, row, default)];
        }

        // A known finite maximum: the row was checked and not written since; only its position is needed.
        return support.TryGetMaximum(row, out float maximum) && !float.IsNegativeInfinity(maximum)
            ? FirstIndexOf(values, maximum)
            : ArgMaxRow(values, row);
    }

    private readonly struct ArgMaxReduction : IRowReduction<int>
    {
        public int Run(ReadOnlySpan<float> x, int row) => ArgMaxRow(x, row);
    }
}

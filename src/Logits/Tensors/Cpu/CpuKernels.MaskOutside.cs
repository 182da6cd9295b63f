using System.Numerics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void MaskOutside(LogitBatch x, ReadOnlySpan<float> lower, ReadOnlySpan<float> upper, LogitBatch destination)
    {
        var (source, target) = AsCpuPair(x, destination, lower.Length, nameof(lower));
        EnsurePerRow(source.Rows, upper.Length, nameof(upper));
        for (int r = 0; r < source.Rows; r++)
        {
            if (float.IsNaN(lower[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(lower), lower[r], $"must not hold NaN (row {source.RowOffset + r})");
            }

            if (float.IsNaN(upper[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(upper), upper[r], $"must not hold NaN (row {source.RowOffset + r})");
            }
        }

        var lowers = RentCopy(lower);
        var uppers = RentCopy(upper);
        try
        {
            // The values and supports of kept entries are unchanged, but a cut may remove the row maximum.
            target.Support?.ForgetAll();
            RowRunner.Run(source.Rows, source.Vocab, new MaskOutsideJob(source.Storage, lowers, uppers, target.Storage, source.Vocab));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(lowers);
            ArrayPool<float>.Shared.Return(uppers);
        }
    }

    /// <summary>Entries outside <c>[lower, upper]</c> become −∞, others are copied; NaN/+∞ input throws (stage <c>"input"</c>).</summary>
    internal static void MaskOutsideRow(ReadOnlySpan<float> x, float lower, float upper, Span<float> destination, int row)
    {
        bool invalid = false;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var low = new Vector<float>(lower);
            var high = new Vector<float>(upper);
            var limit = new Vector<float>(float.PositiveInfinity);
            var removed = new Vector<float>(float.NegativeInfinity);
            var valid = Vector<int>.AllBitsSet;
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var input = new Vector<float>(x.Slice(i));
                valid &= Vector.LessThan(input, limit);
                var outside = Vector.LessThan(input, low) | Vector.GreaterThan(input, high);
                Vector.ConditionalSelect(outside, removed, input).CopyTo(destination.Slice(i));
            }

            invalid = !Vector.EqualsAll(valid, Vector<int>.AllBitsSet);
        }

        for (; i < x.Length; i++)
        {
            float v = x[i];
            invalid |= RowMath.IsInvalid(v);
            destination[i] = v < lower || v > upper ? float.NegativeInfinity : v;
        }

        if (invalid)
        {
            // The output of an invalid entry is whatever the compare made of it; the call fails anyway.
            RowMath.ThrowFirstInvalid(x, row, "input");
        }
    }

    private readonly struct MaskOutsideJob(Memory<float> x, float[] lower, float[] upper, Memory<float> destination, int vocab) : IRowJob
    {
        public void Run(int row) => MaskOutsideRow(
            x.Span.Slice(row * vocab, vocab), lower[row], upper[row], destination.Span.Slice(row * vocab, vocab), row);
    }
}

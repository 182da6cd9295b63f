using System;
using System.Buffers;
using System.Numerics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        var target = AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, thresholds.Length, nameof(thresholds));
        for (int r = 0; r < thresholds.Length; r++)
        {
            if (float.IsNaN(thresholds[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(thresholds), thresholds[r], $"must not hold NaN (row {r})");
            }
        }

        var copy = RentCopy(thresholds);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new MaskBelowJob(source.Memory, copy, target.Memory, source.Vocab));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
        }
    }

    /// <summary>Entries below <paramref name="threshold"/> become -∞, others are copied; NaN/+∞ input throws.</summary>
    internal static void MaskBelowRow(ReadOnlySpan<float> x, float threshold, Span<float> destination, int row)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var limit = new Vector<float>(threshold);
            var removed = new Vector<float>(float.NegativeInfinity);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var input = new Vector<float>(x.Slice(i));
                if (RowMath.AnyInvalid(input))
                {
                    RowMath.ThrowFirstInvalid(x.Slice(i, Vector<float>.Count), row, "input", i);
                }

                Vector.ConditionalSelect(Vector.LessThan(input, limit), removed, input).CopyTo(destination.Slice(i));
            }
        }

        for (; i < x.Length; i++)
        {
            float input = x[i];
            if (RowMath.IsInvalid(input))
            {
                ThrowHelper.ThrowInvalidLogits(row, i, input, "input");
            }

            destination[i] = input < threshold ? float.NegativeInfinity : input;
        }
    }

    private readonly struct MaskBelowJob(Memory<float> x, float[] thresholds, Memory<float> destination, int vocab) : IRowJob
    {
        public void Run(int row) =>
            MaskBelowRow(x.Span.Slice(row * vocab, vocab), thresholds[row], destination.Span.Slice(row * vocab, vocab), row);
    }
}

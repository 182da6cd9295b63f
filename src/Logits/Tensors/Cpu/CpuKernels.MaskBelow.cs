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
            // The source's support is usable only in place; the destination's support is what this call keeps.
            var support = target.Support;
            if (support is not null && !ReferenceEquals(source, target))
            {
                support.ForgetAll();
            }

            bool inPlace = ReferenceEquals(source, target);
            RowRunner.Run(source.Rows, source.Vocab, new MaskBelowJob(source.Storage, copy, target.Storage, source.Vocab, support, inPlace));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(copy);
        }
    }

    /// <summary>Entries below <paramref name="threshold"/> become -∞, others are copied; NaN/+∞ input throws.</summary>
    internal static void MaskBelowRow(ReadOnlySpan<float> x, float threshold, Span<float> destination, int row) =>
        MaskBelowRow(x, threshold, destination, row, Span<int>.Empty);

    /// <summary>
    /// <see cref="MaskBelowRow(ReadOnlySpan{float}, float, Span{float}, int)"/> that also records the kept token
    /// ids, ascending, in <paramref name="kept"/>; returns their count, or −1 once more than
    /// <c>kept.Length</c> are kept (or when <paramref name="kept"/> is empty).
    /// </summary>
    internal static int MaskBelowRow(ReadOnlySpan<float> x, float threshold, Span<float> destination, int row, Span<int> kept)
    {
        int count = kept.IsEmpty ? -1 : 0;
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

                var below = Vector.LessThan(input, limit);
                Vector.ConditionalSelect(below, removed, input).CopyTo(destination.Slice(i));
                if (count >= 0 && !Vector.EqualsAll(below, Vector<int>.AllBitsSet))
                {
                    count = Record(below, i, kept, count);
                }
            }
        }

        for (; i < x.Length; i++)
        {
            float input = x[i];
            if (RowMath.IsInvalid(input))
            {
                ThrowHelper.ThrowInvalidLogits(row, i, input, "input");
            }

            bool isBelow = input < threshold;
            destination[i] = isBelow ? float.NegativeInfinity : input;
            if (count >= 0 && !isBelow && !float.IsNegativeInfinity(input))
            {
                count = count < kept.Length ? Append(kept, count, i) : -1;
            }
        }

        return count;
    }

    /// <summary>Appends the ids of the lanes of a vector at <paramref name="start"/> that are kept and finite.</summary>
    private static int Record(Vector<int> below, int start, Span<int> kept, int count)
    {
        for (int lane = 0; lane < Vector<int>.Count; lane++)
        {
            if (below[lane] == 0)
            {
                if (count == kept.Length)
                {
                    return -1;
                }

                count = Append(kept, count, start + lane);
            }
        }

        return count;
    }

    /// <summary>
    /// <see cref="MaskBelowRow(ReadOnlySpan{float}, float, Span{float}, int, Span{int})"/> in place on a row already
    /// checked in this pipeline call (its maximum is known, so it holds no NaN or +∞): no validity tests, and one
    /// branch per four vectors to find kept lanes, which after a tight cut are rare.
    /// </summary>
    internal static int MaskBelowCheckedInPlace(Span<float> row, float threshold, Span<int> kept)
    {
        int count = kept.IsEmpty ? -1 : 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && row.Length >= 4 * Vector<float>.Count)
        {
            var limit = new Vector<float>(threshold);
            var removed = new Vector<float>(float.NegativeInfinity);
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Vector<float>>(row);
            int v = 0;
            for (; v + 3 < vectors.Length; v += 4)
            {
                var a = vectors[v];
                var b = vectors[v + 1];
                var c = vectors[v + 2];
                var d = vectors[v + 3];
                var keepA = Vector.GreaterThanOrEqual(a, limit);
                var keepB = Vector.GreaterThanOrEqual(b, limit);
                var keepC = Vector.GreaterThanOrEqual(c, limit);
                var keepD = Vector.GreaterThanOrEqual(d, limit);
                vectors[v] = Vector.ConditionalSelect(keepA, a, removed);
                vectors[v + 1] = Vector.ConditionalSelect(keepB, b, removed);
                vectors[v + 2] = Vector.ConditionalSelect(keepC, c, removed);
                vectors[v + 3] = Vector.ConditionalSelect(keepD, d, removed);
                if (count >= 0 && ((keepA | keepB | keepC | keepD) != Vector<int>.Zero))
                {
                    int start = v * Vector<float>.Count;
                    for (int j = start; j < start + (4 * Vector<float>.Count) && count >= 0; j++)
                    {
                        if (row[j] > float.NegativeInfinity)
                        {
                            count = count < kept.Length ? Append(kept, count, j) : -1;
                        }
                    }
                }
            }

            i = v * Vector<float>.Count;
        }

        for (; i < row.Length; i++)
        {
            float input = row[i];
            if (input < threshold)
            {
                row[i] = float.NegativeInfinity;
            }
            else if (count >= 0 && !float.IsNegativeInfinity(input))
            {
                count = count < kept.Length ? Append(kept, count, i) : -1;
            }
        }

        return count;
    }

    private static int Append(Span<int> kept, int count, int id)
    {
        kept[count] = id;
        return count + 1;
    }

    /// <summary>In-place mask of a row with a known support: only the supported entries are read and compacted.</summary>
    private static int MaskBelowOnSupport(Span<float> row, float threshold, ReadOnlySpan<int> ids, Span<int> kept, int rowIndex)
    {
        // kept and ids share memory: the write position never passes the read position.
        int count = 0;
        for (int j = 0; j < ids.Length; j++)
        {
            int id = ids[j];
            float input = row[id];
            if (RowMath.IsInvalid(input))
            {
                ThrowHelper.ThrowInvalidLogits(rowIndex, id, input, "input");
            }

            if (input < threshold)
            {
                row[id] = float.NegativeInfinity;
            }
            else if (!float.IsNegativeInfinity(input))
            {
                kept[count++] = id;
            }
        }

        return count;
    }

    private readonly struct MaskBelowJob(Memory<float> x, float[] thresholds, Memory<float> destination, int vocab, RowSupport? support, bool inPlace) : IRowJob
    {
        public void Run(int row)
        {
            var target = destination.Span.Slice(row * vocab, vocab);
            if (support is null)
            {
                MaskBelowRow(x.Span.Slice(row * vocab, vocab), thresholds[row], target, row);
                return;
            }

            // During a pipeline call: keep the ids that survive (if few), so later kernels can skip the rest.
            int count = inPlace && support.TryGetSupport(row, out var ids)
                ? MaskBelowOnSupport(target, thresholds[row], ids, support.Slots(row), row)
                : inPlace && support.TryGetMaximum(row, out _)
                    ? MaskBelowCheckedInPlace(target, thresholds[row], support.Slots(row))
                    : MaskBelowRow(x.Span.Slice(row * vocab, vocab), thresholds[row], target, row, support.Slots(row));
            support.SetSupport(row, count);
        }
    }
}

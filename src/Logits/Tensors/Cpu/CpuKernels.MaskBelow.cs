using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination)
    {
        var (source, target) = AsCpuPair(x, destination, thresholds.Length, nameof(thresholds));
        for (int r = 0; r < thresholds.Length; r++)
        {
            if (float.IsNaN(thresholds[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(thresholds), thresholds[r], $"must not hold NaN (row {source.RowOffset + r})");
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
        SimdLoops.MapChecked<MaskBelowOperator>(x, threshold, destination, row, "input");

    /// <summary>
    /// <see cref="MaskBelowRow(ReadOnlySpan{float}, float, Span{float}, int)"/> that also records the kept token
    /// ids (those above −∞), ascending, in <paramref name="kept"/>; returns their count, or −1 once more than
    /// <c>kept.Length</c> are kept (or when <paramref name="kept"/> is empty).
    /// </summary>
    internal static int MaskBelowRow(ReadOnlySpan<float> x, float threshold, Span<float> destination, int row, Span<int> kept) =>
        SimdLoops.MapChecked<MaskBelowOperator>(x, threshold, destination, row, "input", kept);

    /// <summary>
    /// <see cref="MaskBelowRow(ReadOnlySpan{float}, float, Span{float}, int, Span{int})"/> in place on a row already
    /// checked in this pipeline call (its maximum is known, so it holds no NaN or +∞): no validity tests.
    /// </summary>
    internal static int MaskBelowCheckedInPlace(Span<float> row, float threshold, Span<int> kept) =>
        SimdLoops.MapRecordingInPlace<MaskBelowOperator>(row, threshold, kept);

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
            float threshold = thresholds[row];
            bool maximumKnown = support.TryGetMaximum(row, out float maximum);
            bool blocksKnown = support.TryGetBlockMaxima(row, out _);
            int count = inPlace && support.TryGetSupport(row, out var ids)
                ? MaskBelowOnSupport(target, thresholds[row], ids, support.Slots(row), row)
                : inPlace && support.TryGetBlockMaxima(row, out var blockMaxima)
                    ? BlockMaxima.MaskBelowInPlace(target, thresholds[row], blockMaxima, support.Slots(row))
                : inPlace && support.TryGetMaximum(row, out _)
                    ? MaskBelowCheckedInPlace(target, thresholds[row], support.Slots(row))
                    : MaskBelowRow(x.Span.Slice(row * vocab, vocab), thresholds[row], target, row, support.Slots(row));
            support.SetSupport(row, count);
            if (inPlace && maximumKnown)
            {
                // The mask keeps every entry at or above the threshold: a maximum at or above it stays, else the row is
                // all −∞; so do the block maxima (a later kernel need not check the row again).
                float after = threshold <= maximum ? maximum : float.NegativeInfinity;
                if (blocksKnown)
                {
                    support.MaskBlockMaxima(row, threshold);
                    support.SetMaximumWithBlocks(row, after);
                }
                else
                {
                    support.SetMaximum(row, after);
                }
            }
        }
    }

    /// <summary>Entries below the threshold <c>y</c> become −∞, the others stay (NaN stays NaN, for the caller's check).</summary>
    internal readonly struct MaskBelowOperator : IBinaryOperator
    {
        public static float Invoke(float x, float y) => x < y ? float.NegativeInfinity : x;

        public static Vector128<float> Invoke(Vector128<float> x, Vector128<float> y) =>
            Vector128.ConditionalSelect(Vector128.LessThan(x, y), Vector128.Create(float.NegativeInfinity), x);

        public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.LessThan(x, y), Vector256.Create(float.NegativeInfinity), x);

        public static Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) =>
            Vector512.ConditionalSelect(Vector512.LessThan(x, y), Vector512.Create(float.NegativeInfinity), x);
    }
}

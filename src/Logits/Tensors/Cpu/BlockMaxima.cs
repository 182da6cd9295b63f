using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The maxima of a long row's blocks of <see cref="Size"/> tokens, taken by the pipeline's checking pass at no extra
/// read, and what they spare: a top-k search that reads only the blocks that can hold a top-k value, and a mask that
/// writes <c>−∞</c> over whole blocks below its threshold without reading them.
/// </summary>
/// <remarks>
/// <para>Why: at V = 128256 the default chain made four passes over the row after the copy in (the entry check, the
/// top-k heap, the mask), each bound by memory. The k-th largest block maximum is a lower bound of the row's k-th
/// largest value (k blocks each hold a value at least that large), and a block whose maximum is not above the heap's
/// root cannot change the heap: on a 128256-token row, top-k 40 then reads about 40 blocks instead of 501.</para>
/// <para>The results are exactly those of the full passes (the same k-th largest value, the same masked row and the
/// same kept ids); only what is read differs. The maxima are valid while the row's checked maximum is
/// (<see cref="RowSupport"/> forgets both together).</para>
/// </remarks>
internal static class BlockMaxima
{
    /// <summary>Tokens per block (a multiple of every vector width).</summary>
    public const int Size = 256;

    /// <summary>The shortest row whose checking pass records block maxima (shorter rows have too few blocks to skip).</summary>
    public const int RowMinimum = 64 * Size;

    /// <summary>The number of blocks of a row of <paramref name="length"/> tokens (the last one may be partial).</summary>
    public static int Count(int length) => (length + Size - 1) / Size;

    /// <summary>
    /// The row's maximum after checking that no entry is NaN or +∞ (the exception names the first such token, as
    /// <see cref="RowMath.CheckedMax"/>), and each block's maximum in <paramref name="maxima"/> (length
    /// <see cref="Count"/>), in one read of the row.
    /// </summary>
    public static float CheckedMax(ReadOnlySpan<float> x, Span<float> maxima, int row) => CheckedMax<NoCopy>(x, maxima, row, Span<float>.Empty);

    /// <summary>
    /// <see cref="CheckedMax(ReadOnlySpan{float}, Span{float}, int)"/> that also copies <paramref name="x"/> into
    /// <paramref name="copy"/> in the same pass (all of it, also when the check then throws).
    /// </summary>
    public static float CopyCheckedMax(ReadOnlySpan<float> x, Span<float> copy, Span<float> maxima, int row) => CheckedMax<Copy>(x, maxima, row, copy[..x.Length]);

    private static float CheckedMax<TCopy>(ReadOnlySpan<float> x, Span<float> maxima, int row, Span<float> copy)
        where TCopy : ICopyMode
    {
        int blocks = Count(x.Length);
        maxima = maxima[..blocks];
        float result = float.NegativeInfinity;
        bool valid = true;
        int b =
            VectorWidth512.IsHardwareAccelerated ? CheckedMaxOfBlocks<VectorWidth512, Vector512<float>, TCopy>(x, maxima, copy, ref result, ref valid)
            : VectorWidth256.IsHardwareAccelerated ? CheckedMaxOfBlocks<VectorWidth256, Vector256<float>, TCopy>(x, maxima, copy, ref result, ref valid)
            : VectorWidth128.IsHardwareAccelerated ? CheckedMaxOfBlocks<VectorWidth128, Vector128<float>, TCopy>(x, maxima, copy, ref result, ref valid)
            : 0;

        // The partial last block, and every block without vectors.
        for (; b < blocks; b++)
        {
            float blockMax = float.NegativeInfinity;
            int start = b * Size;
            var block = x.Slice(start, Math.Min(Size, x.Length - start));
            if (TCopy.Enabled)
            {
                block.CopyTo(copy[start..]);
            }

            foreach (float value in block)
            {
                valid &= !RowMath.IsInvalid(value);
                blockMax = RowMath.MaxOperator.Invoke(blockMax, value);
            }

            maxima[b] = blockMax;
            result = RowMath.MaxOperator.Invoke(result, blockMax);
        }

        if (!valid)
        {
            RowMath.ThrowFirstInvalid(x, row, "input");
        }

        return result;
    }

    /// <summary>The full blocks of <see cref="CheckedMax"/> at one vector width; returns their number.</summary>
    private static int CheckedMaxOfBlocks<TWidth, TVector, TCopy>(ReadOnlySpan<float> x, Span<float> maxima, Span<float> copy, ref float result, ref bool valid)
        where TWidth : IVectorWidth<TVector>
        where TCopy : ICopyMode
    {
        // Four independent accumulators per block; the validity mask costs one compare and one AND per vector
        // (IsInvalid is !(v < +∞): NaN and +∞ fail the compare).
        int width = TWidth.Count;
        int full = x.Length / Size;
        var limit = TWidth.Create(float.PositiveInfinity);
        var allValid = TWidth.AllBitsSet;
        var negativeInfinity = TWidth.Create(float.NegativeInfinity);
        for (int b = 0; b < full; b++)
        {
            // The accumulators start at −∞: max(−∞, v) is v itself (also −0), so the block maxima are those of
            // accumulators started at the block's first vectors.
            var m0 = negativeInfinity;
            var m1 = negativeInfinity;
            var m2 = negativeInfinity;
            var m3 = negativeInfinity;
            int start = b * Size;
            for (int i = start, end = start + Size; i < end; i += 4 * width)
            {
                var v0 = TWidth.Load(x, i);
                var v1 = TWidth.Load(x, i + width);
                var v2 = TWidth.Load(x, i + (2 * width));
                var v3 = TWidth.Load(x, i + (3 * width));
                if (TCopy.Enabled)
                {
                    TWidth.Store(v0, copy, i);
                    TWidth.Store(v1, copy, i + width);
                    TWidth.Store(v2, copy, i + (2 * width));
                    TWidth.Store(v3, copy, i + (3 * width));
                }

                allValid = TWidth.And(allValid, TWidth.And(
                    TWidth.And(TWidth.LessThan(v0, limit), TWidth.LessThan(v1, limit)),
                    TWidth.And(TWidth.LessThan(v2, limit), TWidth.LessThan(v3, limit))));
                m0 = TWidth.Invoke<RowMath.MaxOperator>(m0, v0);
                m1 = TWidth.Invoke<RowMath.MaxOperator>(m1, v1);
                m2 = TWidth.Invoke<RowMath.MaxOperator>(m2, v2);
                m3 = TWidth.Invoke<RowMath.MaxOperator>(m3, v3);
            }

            float blockMax = TWidth.Reduce<RowMath.MaxOperator>(TWidth.Invoke<RowMath.MaxOperator>(
                TWidth.Invoke<RowMath.MaxOperator>(m0, m1), TWidth.Invoke<RowMath.MaxOperator>(m2, m3)));
            maxima[b] = blockMax;
            result = RowMath.MaxOperator.Invoke(result, blockMax);
        }

        valid &= TWidth.AllTrue(allValid);
        return full;
    }

    /// <summary>
    /// Whether <see cref="KthLargest"/> should be used for the k-th largest of a row with <paramref name="blocks"/>
    /// blocks: the bound is only tight when there are several blocks per wanted value.
    /// </summary>
    public static bool Pays(int k, int blocks) => k <= OrderStatistics.HeapLimit && 2 * k <= blocks;

    /// <summary>
    /// The k-th largest value of a checked row (k = <paramref name="heap"/>'s length, duplicates counted), reading only
    /// the blocks whose maximum is above the current k-th largest candidate. Exact: the heap starts as k copies of the
    /// k-th largest block maximum, which at least k values reach, and a block whose maximum is not above the root holds
    /// no value that would enter it.
    /// </summary>
    public static float KthLargest(ReadOnlySpan<float> x, ReadOnlySpan<float> maxima, float rowMaximum, Span<float> heap)
    {
        // The k-th largest block maximum: the short-row search for up to 2048 blocks (V ≤ 524288), else a heap.
        float bound = maxima.Length <= OrderStatistics.BisectionLimit
            ? OrderStatistics.KthLargestByBisection(maxima, heap.Length, rowMaximum)
            : OrderStatistics.TopValues(maxima, heap);
        heap.Fill(bound);
        for (int b = 0; b < maxima.Length; b++)
        {
            if (maxima[b] > heap[0])
            {
                int start = b * Size;
                OrderStatistics.OfferAll(x.Slice(start, Math.Min(Size, x.Length - start)), heap);
            }
        }

        return heap[0];
    }

    /// <summary>
    /// <see cref="CpuKernels.MaskBelowCheckedInPlace"/> by blocks: a block whose maximum is below
    /// <paramref name="threshold"/> becomes <c>−∞</c> without being read; the others are masked and their kept ids
    /// recorded, ascending, in <paramref name="kept"/>. Returns the number of ids recorded, or −1 once more than
    /// <c>kept.Length</c> are kept.
    /// </summary>
    public static int MaskBelowInPlace(Span<float> row, float threshold, ReadOnlySpan<float> maxima, Span<int> kept)
    {
        int count = kept.IsEmpty ? -1 : 0;
        for (int b = 0; b < maxima.Length; b++)
        {
            int start = b * Size;
            var block = row.Slice(start, Math.Min(Size, row.Length - start));
            if (maxima[b] < threshold)
            {
                block.Fill(float.NegativeInfinity);
                continue;
            }

            if (count < 0)
            {
                SimdLoops.MapRecordingInPlace<CpuKernels.MaskBelowOperator>(block, threshold, Span<int>.Empty);
                continue;
            }

            if (float.IsNegativeInfinity(maxima[b]))
            {
                // All −∞ (and the threshold is −∞): nothing changes, nothing is recorded.
                continue;
            }

            var slots = kept[count..];
            if (slots.IsEmpty)
            {
                // The block keeps its maximum, which is above −∞: one id more than the slots hold.
                count = -1;
                SimdLoops.MapRecordingInPlace<CpuKernels.MaskBelowOperator>(block, threshold, Span<int>.Empty);
                continue;
            }

            int recorded = SimdLoops.MapRecordingInPlace<CpuKernels.MaskBelowOperator>(block, threshold, slots);
            if (recorded < 0)
            {
                count = -1;
                continue;
            }

            for (int j = 0; j < recorded; j++)
            {
                slots[j] += start;
            }

            count += recorded;
        }

        return count;
    }

    /// <summary>Whether a checking pass also copies the row (a compile-time constant of each instantiation).</summary>
    private interface ICopyMode
    {
        static abstract bool Enabled { get; }
    }

    private readonly struct Copy : ICopyMode
    {
        public static bool Enabled => true;
    }

    private readonly struct NoCopy : ICopyMode
    {
        public static bool Enabled => false;
    }
}

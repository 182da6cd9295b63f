
namespace Logits.Tensors.Cpu;

/// <summary>Selection of order statistics without a full sort (expected linear time).</summary>
internal static class OrderStatistics
{
    /// <summary>
    /// Rearranges <paramref name="values"/> so that <c>values[k - 1]</c> is the <paramref name="k"/>-th
    /// largest, every element before it is ≥ it and every element after it is ≤ it; returns it.
    /// Values must not be NaN (the callers check).
    /// </summary>
    public static float SelectKthLargest(Span<float> values, int k)
    {
        int target = k - 1;
        int lo = 0;
        int hi = values.Length - 1;

        // Introselect: quickselect with median-of-three pivots, and a sort of the remaining range
        // if partitioning keeps failing to shrink it (guards the quadratic worst case).
        int budget = 2 * (32 - int.LeadingZeroCount(values.Length));
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                var rest = values.Slice(lo, hi - lo + 1);
                rest.Sort(static (p, q) => q.CompareTo(p));
                break;
            }

            int mid = lo + ((hi - lo) >> 1);
            float pivot = MedianOfThree(values[lo], values[mid], values[hi]);

            // Three-way partition (descending): [lo, lt) > pivot, [lt, gt] == pivot, (gt, hi] < pivot.
            // Three-way handling keeps rows full of ties (or of -inf) linear.
            int lt = lo;
            int gt = hi;
            int i = lo;
            while (i <= gt)
            {
                float v = values[i];
                if (v > pivot)
                {
                    (values[lt], values[i]) = (values[i], values[lt]);
                    lt++;
                    i++;
                }
                else if (v < pivot)
                {
                    (values[gt], values[i]) = (values[i], values[gt]);
                    gt--;
                }
                else
                {
                    i++;
                }
            }

            if (target < lt)
            {
                hi = lt - 1;
            }
            else if (target > gt)
            {
                lo = gt + 1;
            }
            else
            {
                return pivot;
            }
        }

        return values[target];
    }

    /// <summary>The largest k for which <see cref="TopValues"/> (one pass with a min-heap) beats a copy and quickselect.</summary>
    public const int HeapLimit = 1024;

    /// <summary>
    /// Fills <paramref name="heap"/> (length k ≤ x.Length) with the k largest values of <paramref name="x"/>
    /// (duplicates counted) as a min-heap, in one pass, and returns the k-th largest (the heap's root).
    /// A SIMD pre-check skips every vector with no lane above the current root, so after the first few
    /// thousand elements almost every vector costs one compare. Values must not be NaN (callers check).
    /// </summary>
    public static float TopValues(ReadOnlySpan<float> x, Span<float> heap)
    {
        int k = heap.Length;
        int n;
        if (x.Length >= 2 * k)
        {
            // A lower bound for the k-th largest: the smallest of the maxima of k disjoint blocks (k distinct
            // elements are at least that large). The heap starts as k copies of it and only strictly larger values
            // enter, so rows whose large values come late (a vocabulary whose special and byte tokens come first)
            // no longer push hundreds of values through the heap. If fewer than k values exceed the bound, copies
            // of it stay in the heap and it is the answer, which is then exact.
            heap.Fill(LowerBoundOfKthLargest(x, k));
            n = 0;
        }
        else
        {
            x[..k].CopyTo(heap);
            for (int i = (k / 2) - 1; i >= 0; i--)
            {
                SiftDown(heap, i);
            }

            n = k;
        }

        OfferAll(x[n..], heap);
        return heap[0];
    }

    /// <summary>
    /// Offers every value of <paramref name="x"/> to the min-heap <paramref name="heap"/> (only values above its root
    /// enter); a SIMD pre-check skips every group of vectors with no lane above the root. Values must not be NaN.
    /// </summary>
    public static void OfferAll(ReadOnlySpan<float> x, Span<float> heap)
    {
        int n = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(x);

            // Four vectors per test: their lane-wise maximum against the root, one branch for 4·width values.
            int v = 0;
            for (; v + 3 < vectors.Length; v += 4)
            {
                var highest = System.Numerics.Vector.Max(
                    System.Numerics.Vector.Max(vectors[v], vectors[v + 1]),
                    System.Numerics.Vector.Max(vectors[v + 2], vectors[v + 3]));
                if (!System.Numerics.Vector.GreaterThanAny(highest, new System.Numerics.Vector<float>(heap[0])))
                {
                    continue;
                }

                // Vector by vector within the group: a vector with no lane above the root is skipped (after a rise of
                // the root, most of a passing group's lanes no longer qualify).
                for (int u = v; u < v + 4; u++)
                {
                    if (System.Numerics.Vector.GreaterThanAny(vectors[u], new System.Numerics.Vector<float>(heap[0])))
                    {
                        for (int j = u * width, end = j + width; j < end; j++)
                        {
                            Offer(heap, x[j]);
                        }
                    }
                }
            }

            for (; v < vectors.Length; v++)
            {
                if (System.Numerics.Vector.GreaterThanAny(vectors[v], new System.Numerics.Vector<float>(heap[0])))
                {
                    for (int j = v * width, end = j + width; j < end; j++)
                    {
                        Offer(heap, x[j]);
                    }
                }
            }

            n = vectors.Length * width;
        }

        for (; n < x.Length; n++)
        {
            Offer(heap, x[n]);
        }
    }

    /// <summary>The longest row for which <see cref="KthLargestByBisection"/> beats the heap.</summary>
    public const int BisectionLimit = 2048;

    /// <summary>
    /// The k-th largest value of <paramref name="x"/> (duplicates counted; 1 ≤ k ≤ x.Length; no NaN; maximum
    /// <paramref name="max"/>) by bisection over the float ordering: the answer is the largest t with
    /// <c>#{x ≥ t} ≥ k</c>, and each probe is one branch-free SIMD count. About 32 passes over the row, which
    /// for short rows costs less than a heap whose sift-downs mispredict on every level, and does not depend on
    /// the order of the values.
    /// </summary>
    public static float KthLargestByBisection(ReadOnlySpan<float> x, int k, float max)
    {
        // Invariants: #{x ≥ low} = countLow ≥ k; #{x ≥ above} = countAbove < k, where above is the last probe that
        // failed (+∞ at first: a checked row holds none); the answer's key is in [lowKey, highKey].
        float low = x.Length >= 2 * k ? LowerBoundOfKthLargest(x, k) : float.NegativeInfinity;
        int lowKey = OrderedKey(low);
        int highKey = OrderedKey(max);
        int countLow = lowKey < highKey ? CountAtLeast(x, low) : x.Length;
        int countAbove = 0;
        float above = float.PositiveInfinity;
        bool interpolate = true;
        while (lowKey < highKey)
        {
            // Few values left between the ends: one pass gathers them and the answer is picked among them.
            if (countLow - countAbove <= GatherLimit)
            {
                return KthLargestBetween(x, FromOrderedKey(lowKey), above, k - countAbove);
            }

            // The probe: where the counts, linear in value between the ends, reach k (the secant of the rows's
            // empirical distribution), or the key midpoint when that did not halve the count range last time or
            // the ends are not finite. Either way the search stays exact; the secant only picks better probes.
            int middle = (int)(lowKey + (((long)highKey - lowKey + 1) / 2));
            float lowValue = FromOrderedKey(lowKey);
            float highValue = FromOrderedKey(highKey);
            if (interpolate && float.IsFinite(lowValue) && float.IsFinite(highValue) && float.IsFinite(highValue - lowValue))
            {
                double fraction = (double)(countLow - k) / (countLow - countAbove);
                int guess = OrderedKey((float)(lowValue + ((highValue - lowValue) * fraction)));
                middle = Math.Clamp(guess, lowKey + 1, highKey);
            }

            int before = countLow - countAbove;
            int count = CountAtLeast(x, FromOrderedKey(middle));
            if (count >= k)
            {
                lowKey = middle;
                countLow = count;
            }
            else
            {
                highKey = middle - 1;
                countAbove = count;
                above = FromOrderedKey(middle);
            }

            interpolate = 2 * (countLow - countAbove) <= before;
        }

        return FromOrderedKey(lowKey);
    }

    /// <summary>The most values <see cref="KthLargestByBisection"/> gathers to finish its search.</summary>
    private const int GatherLimit = 32;

    /// <summary>
    /// The <paramref name="rank"/>-th largest of the values <c>v</c> of <paramref name="x"/> with <c>v ≥ low</c> and not
    /// <c>v ≥ above</c> (the very predicates the search counted: at most <see cref="GatherLimit"/> values, at least
    /// <paramref name="rank"/>), as the key search would return it: a zero is +0 (the largest key with the same count).
    /// </summary>
    private static float KthLargestBetween(ReadOnlySpan<float> x, float low, float above, int rank)
    {
        // Whole vectors with no value in range are skipped; the others, and the tail, branch-free: every value is
        // written at the next slot, which moves on only for a value in range (at most GatherLimit of them, so the
        // slot past them is the last one ever written).
        Span<float> between = stackalloc float[GatherLimit + 1];
        int n = 0;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<float>.Count;
            var lowVector = new System.Numerics.Vector<float>(low);
            var aboveVector = new System.Numerics.Vector<float>(above);
            for (; i + width <= x.Length; i += width)
            {
                var v = new System.Numerics.Vector<float>(x.Slice(i, width));
                var inRange = System.Numerics.Vector.AndNot(System.Numerics.Vector.GreaterThanOrEqual(v, lowVector), System.Numerics.Vector.GreaterThanOrEqual(v, aboveVector));
                if (inRange == System.Numerics.Vector<int>.Zero)
                {
                    continue;
                }

                for (int j = i; j < i + width; j++)
                {
                    between[n] = x[j];
                    n += (x[j] >= low) & !(x[j] >= above) ? 1 : 0;
                }
            }
        }

        for (; i < x.Length; i++)
        {
            float value = x[i];
            between[n] = value;
            n += (value >= low) & !(value >= above) ? 1 : 0;
        }

        var found = between[..n];
        found.Sort();
        float answer = found[n - rank];
        return answer == 0 ? 0f : answer;
    }

    /// <summary>How many entries of <paramref name="x"/> are ≥ <paramref name="threshold"/> (one SIMD pass).</summary>
    public static int CountAtLeast(ReadOnlySpan<float> x, float threshold)
    {
        int count = 0;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && x.Length >= System.Numerics.Vector<float>.Count)
        {
            var limit = new System.Numerics.Vector<float>(threshold);
            var lanes = System.Numerics.Vector<int>.Zero;
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(x);
            foreach (var vector in vectors)
            {
                // A true lane is all bits set, i.e. -1: subtracting counts it.
                lanes -= System.Numerics.Vector.GreaterThanOrEqual(vector, limit);
            }

            count = System.Numerics.Vector.Sum(lanes);
            i = vectors.Length * System.Numerics.Vector<float>.Count;
        }

        for (; i < x.Length; i++)
        {
            count += x[i] >= threshold ? 1 : 0;
        }

        return count;
    }

    /// <summary>A signed integer with the order of the float (−∞ to +∞; NaN excluded).</summary>
    private static int OrderedKey(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value);
        return bits >= 0 ? bits : bits ^ int.MaxValue;
    }

    private static float FromOrderedKey(int key) => BitConverter.Int32BitsToSingle(key >= 0 ? key : key ^ int.MaxValue);

    /// <summary>
    /// The minimum over k disjoint blocks of each block's maximum, a value the k-th largest of <paramref name="x"/> is
    /// at least. Blocks start evenly across the row and hold at most 64 values, so the cost is bounded by 64·k reads.
    /// </summary>
    private static float LowerBoundOfKthLargest(ReadOnlySpan<float> x, int k)
    {
        int stride = x.Length / k;
        int length = Math.Min(stride, 64);
        float bound = float.PositiveInfinity;
        for (int b = 0; b < k; b++)
        {
            var block = x.Slice(b * stride, length);
            float blockMax;
            if (length >= 32)
            {
                blockMax = System.Numerics.Tensors.TensorPrimitives.Max(block);
            }
            else
            {
                // Short blocks: a plain loop costs less than the vectorised call's setup.
                blockMax = block[0];
                for (int i = 1; i < block.Length; i++)
                {
                    blockMax = Math.Max(blockMax, block[i]);
                }
            }

            bound = Math.Min(bound, blockMax);
        }

        return bound;
    }

    private static void Offer(Span<float> heap, float value)
    {
        // Equal to the root changes nothing in the multiset's k-th value, so only strictly larger enters.
        if (value > heap[0])
        {
            heap[0] = value;
            SiftDown(heap, 0);
        }
    }

    private static void SiftDown(Span<float> heap, int index)
    {
        int n = heap.Length;
        float value = heap[index];
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && heap[child + 1] < heap[child])
            {
                child++;
            }

            if (heap[child] >= value)
            {
                break;
            }

            heap[index] = heap[child];
            index = child;
        }

        heap[index] = value;
    }

    private static float MedianOfThree(float a, float b, float c) =>
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}

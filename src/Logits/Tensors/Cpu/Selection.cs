using System;

namespace Logits.Tensors.Cpu;

/// <summary>Selection of order statistics without a full sort (expected linear time).</summary>
internal static class Selection
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

    private static float MedianOfThree(float a, float b, float c) =>
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}

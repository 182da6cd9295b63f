using System;

namespace Logits.Benchmarks.Peers;

/// <summary>
/// Plain scalar C# versions of every case: one element at a time, <see cref="MathF.Exp"/>, float64 sums, a bounded
/// heap for top-k and <c>Array.Sort</c> for sort-based top-p, as a developer would write them without
/// SIMD. They write the same dense result as Logits (removed tokens <c>-∞</c>) so results can be compared.
/// </summary>
public static class ScalarSampling
{
    /// <summary>Stable softmax: max, <c>exp(z − max)</c> with a float64 sum, scale.</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            destination[i] = e;
            sum += e;
        }

        float scale = (float)(1.0 / sum);
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] *= scale;
        }
    }

    /// <summary>Stable log-softmax: <c>z − max − ln Σ exp(z − max)</c>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += MathF.Exp(x[i] - max);
        }

        float shift = max + (float)Math.Log(sum);
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = x[i] - shift;
        }
    }

    /// <summary>Top-k with ties kept: a bounded min-heap finds the k-th largest value, then one masking pass.</summary>
    public static void TopK(ReadOnlySpan<float> x, int k, Span<float> heap, Span<float> destination) =>
        MaskBelow(x, KthLargest(x, k, heap), destination);

    /// <summary>The k-th largest value by a bounded min-heap of <paramref name="k"/> values.</summary>
    public static float KthLargest(ReadOnlySpan<float> x, int k, Span<float> heap)
    {
        int size = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (size < k)
            {
                heap[size] = v;
                SiftUp(heap, size++);
            }
            else if (v > heap[0])
            {
                heap[0] = v;
                SiftDown(heap, size, 0);
            }
        }

        return heap[0];
    }

    /// <summary>
    /// Sort-based top-p, the usual way: copy, <c>Array.Sort</c> the values, accumulate the
    /// probabilities from the top in float64 until they reach <paramref name="p"/>, then mask below that value.
    /// </summary>
    public static void TopP(ReadOnlySpan<float> x, double p, float[] sortScratch, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(sortScratch);
        x.CopyTo(sortScratch);
        Array.Sort(sortScratch, 0, x.Length);
        var sorted = sortScratch.AsSpan(0, x.Length);
        float max = sorted[^1];
        double sum = 0;
        for (int i = 0; i < sorted.Length; i++)
        {
            sum += MathF.Exp(sorted[i] - max);
        }

        double target = (p - 1e-6) * sum;
        double cumulative = 0;
        float threshold = sorted[0];
        for (int i = sorted.Length - 1; i >= 0; i--)
        {
            cumulative += MathF.Exp(sorted[i] - max);
            if (cumulative >= target)
            {
                threshold = sorted[i];
                break;
            }
        }

        MaskBelow(x, threshold, destination);
    }

    /// <summary>Min-p: keep <c>z ≥ max + ln pMin</c> (no exponentials).</summary>
    public static void MinP(ReadOnlySpan<float> x, double pMin, Span<float> destination) =>
        MaskBelow(x, (float)(Max(x) + Math.Log(pMin)), destination);

    /// <summary>Inverse-CDF sampling over ascending ids with a float64 cumulative sum (docs/algorithms/selection.md#multinomial).</summary>
    public static int Sample(ReadOnlySpan<float> x, double u)
    {
        float max = Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sum += MathF.Exp(x[i] - max);
        }

        double target = u * sum;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < x.Length; i++)
        {
            float w = MathF.Exp(x[i] - max);
            if (w > 0)
            {
                cumulative += w;
                last = i;
                if (target < cumulative)
                {
                    return i;
                }
            }
        }

        return last;
    }

    /// <summary>
    /// The default chain, top-k → top-p → min-p → temperature → sample, on candidates: a heap selects the top
    /// <paramref name="k"/> (with their ids), they are sorted, and every later stage works on that short list; the
    /// draw scans the survivors in ascending id order, as Logits' dense sampler does.
    /// </summary>
    public static int DefaultChain(ReadOnlySpan<float> x, int k, double topP, double minP, float temperature, double u, ChainScratch scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        float tau = KthLargest(x, k, scratch.Heap);

        // Every token tied with the k-th value is kept, as Logits does.
        int n = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] >= tau)
            {
                if (n == scratch.Values.Length)
                {
                    scratch.Grow();
                }

                scratch.Values[n] = x[i];
                scratch.Ids[n++] = i;
            }
        }

        var values = scratch.Values.AsSpan(0, n);
        var ids = scratch.Ids.AsSpan(0, n);
        values.Sort(ids, static (a, b) => b.CompareTo(a));

        // Top-p over the survivors, float64 prefix, inclusive with the 1e-6 tolerance.
        float max = values[0];
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += MathF.Exp(values[i] - max);
        }

        double cumulative = 0;
        int kept = n;
        for (int i = 0; i < n; i++)
        {
            cumulative += MathF.Exp(values[i] - max);
            if (cumulative >= (topP - 1e-6) * sum)
            {
                kept = i + 1;
                break;
            }
        }

        // Tie groups stay whole; then min-p against the maximum.
        while (kept < n && values[kept] == values[kept - 1])
        {
            kept++;
        }

        float minLogit = (float)(max + Math.Log(minP));
        while (kept > 1 && values[kept - 1] < minLogit)
        {
            kept--;
        }

        // Temperature, then the draw in ascending id order.
        values = values[..kept];
        ids = ids[..kept];
        ids.Sort(values);
        float factor = 1f / temperature;
        float scaledMax = max * factor;
        double total = 0;
        for (int i = 0; i < kept; i++)
        {
            total += MathF.Exp((values[i] * factor) - scaledMax);
        }

        double target = u * total;
        double running = 0;
        for (int i = 0; i < kept; i++)
        {
            running += MathF.Exp((values[i] * factor) - scaledMax);
            if (target < running)
            {
                return ids[i];
            }
        }

        return ids[kept - 1];
    }

    /// <summary>
    /// Repetition, frequency and presence penalties over a history, into <paramref name="destination"/> (a copy of
    /// <paramref name="x"/>): counts in an <c>int[V]</c> plus a list of the touched ids, then one update per distinct id.
    /// </summary>
    public static void Penalties(ReadOnlySpan<float> x, ReadOnlySpan<int> history, float repetition, float frequency, float presence, int[] counts, int[] touched, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(touched);
        x.CopyTo(destination);
        int distinct = 0;
        foreach (int id in history)
        {
            if (counts[id]++ == 0)
            {
                touched[distinct++] = id;
            }
        }

        for (int t = 0; t < distinct; t++)
        {
            int id = touched[t];
            float z = destination[id];
            z = z > 0 ? z / repetition : z * repetition;
            destination[id] = z - (counts[id] * frequency) - presence;
            counts[id] = 0;
        }
    }

    /// <summary>Writes <c>x</c> with every value below <paramref name="threshold"/> set to <c>-∞</c>.</summary>
    public static void MaskBelow(ReadOnlySpan<float> x, float threshold, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = x[i] >= threshold ? x[i] : float.NegativeInfinity;
        }
    }

    private static float Max(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            max = Math.Max(max, x[i]);
        }

        return max;
    }

    private static void SiftUp(Span<float> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (heap[parent] <= heap[i])
            {
                break;
            }

            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<float> heap, int size, int i)
    {
        while (true)
        {
            int smallest = i;
            int left = (2 * i) + 1;
            int right = left + 1;
            if (left < size && heap[left] < heap[smallest])
            {
                smallest = left;
            }

            if (right < size && heap[right] < heap[smallest])
            {
                smallest = right;
            }

            if (smallest == i)
            {
                return;
            }

            (heap[smallest], heap[i]) = (heap[i], heap[smallest]);
            i = smallest;
        }
    }

    /// <summary>Buffers of <see cref="DefaultChain"/>, allocated once.</summary>
    public sealed class ChainScratch
    {
        /// <summary>Creates buffers for top-<paramref name="k"/>.</summary>
        public ChainScratch(int k)
        {
            Heap = new float[k];
            Values = new float[k * 2];
            Ids = new int[k * 2];
        }

        /// <summary>The heap of the k largest values.</summary>
        public float[] Heap { get; }

        /// <summary>Candidate values.</summary>
        public float[] Values { get; private set; }

        /// <summary>Candidate ids.</summary>
        public int[] Ids { get; private set; }

        /// <summary>Doubles the candidate buffers (only when many values tie with the k-th).</summary>
        public void Grow()
        {
            var values = Values;
            var ids = Ids;
            Array.Resize(ref values, values.Length * 2);
            Array.Resize(ref ids, ids.Length * 2);
            Values = values;
            Ids = ids;
        }
    }
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The exact rank-order mass cut of a row without sorting it (docs/algorithms/truncation.md#top-p): the value of the
/// token at which a walk from the top, adding <c>exp(z − m)</c>, first reaches a target mass.
/// </summary>
/// <remarks>
/// <para>
/// One vectorised pass computes every token's <c>e = exp(z − m)</c> (<see cref="VectorExp"/>) and its distance below
/// the maximum in eighths of a logit, rounded to an integer bin (<see cref="Key"/>), and adds <c>e</c> in float64 to
/// that bin; the bins' sum is the row's total. Bins are
/// ordered by value, so walking them from bin 0 finds the one bin where the running mass reaches the target; only
/// that bin's tokens are gathered (a second SIMD pass), and the cut inside it is found the same way on finer bins of
/// its own value range, until a few dozen values are left to sort. Every step uses the same float32 <c>e</c> of each
/// token (the scalar and vector forms of the exp give the same bits), accumulated in float64.
/// </para>
/// <para>
/// Far tokens: a token whose <c>e</c> is at most <c>(1 − target)·S/(2V)</c> (<c>S</c> the total, at least 1, the
/// maximum's own term) can never be inside the cut, since all of them together hold at most half the mass left over.
/// They share one far bin, and a vector whose lanes are all that far only adds its <c>e</c> to it, with no scatter.
/// </para>
/// <para>
/// Why <c>·8</c>: a power of two, so the scaled distance is exact given the float32 difference <c>m − z</c>; the key is
/// then the same in every lane width and in the scalar tail, and monotone in <c>z</c> (bins never reorder tokens).
/// </para>
/// <para>
/// Peaked rows of at least 8192 tokens may first take <see cref="TryTopWindow"/>: one pass for the total and the few
/// tokens above a sample's top, refined the same way.
/// </para>
/// </remarks>
internal static class MassCut
{
    /// <summary>Bins per logit below the maximum (a power of two: the scaling is exact).</summary>
    private const float BinsPerLogit = 8f;

    /// <summary>2²³: adding it to a float in [0, 2²²) rounds it to the nearest integer, held in the low mantissa bits.</summary>
    private const float RoundingOffset = 8388608f;

    /// <summary>The bits of <see cref="RoundingOffset"/>: a rounded key's bits minus these are its bin.</summary>
    private const int RoundingBits = 0x4B000000;

    /// <summary>The most value bins (32 logits below the maximum); farther tokens share the far bin.</summary>
    private const int MaxBins = 256;

    /// <summary>Interleaved copies of the histogram, so consecutive tokens of one bin do not wait on each other's store.</summary>
    private const int Copies = 4;

    /// <summary>Sub-bins of each refinement step.</summary>
    private const int SubBins = 64;

    /// <summary>At most this many candidates are sorted directly.</summary>
    private const int SortLength = 32;

    /// <summary>
    /// The value <c>τ</c> of the first token, walking the finite tokens of <paramref name="x"/> by value descending, at
    /// which the running sum of <c>exp(z − m)</c> reaches <paramref name="target"/> times the row's total; every token
    /// tied with <c>τ</c> is then inside the cut. Returns <paramref name="m"/> for a target ≤ 0.
    /// </summary>
    /// <param name="x">A checked row (no NaN or +∞) whose maximum is <paramref name="m"/> (finite).</param>
    /// <param name="m">The row maximum.</param>
    /// <param name="target">The fraction of the total mass to reach, below 1.</param>
    public static float Threshold(ReadOnlySpan<float> x, float m, double target)
    {
        if (target <= 0)
        {
            return m;
        }

        if (TryTopWindow(x, m, target, out float windowCut))
        {
            return windowCut;
        }

        // Tokens at least `reach` logits below the maximum hold e ≤ (1 − target)/(2V) each: never inside the cut.
        double reach = Math.Log(2.0 * x.Length / (1 - target));
        // +1: a bin holds keys rounded to it, so the far bin starts half a bin before `reach`.
        int bins = (int)Math.Clamp(Math.Ceiling(reach * BinsPerLogit) + 1, 1, MaxBins);
        int stride = bins + 1;
        Span<double> histogram = stackalloc double[Copies * (MaxBins + 1)];
        histogram[..(Copies * stride)].Clear();
        Accumulate(x, m, bins, reach, histogram);

        // Fold the copies into the first one; its last bin is the far bin.
        var mass = histogram[..stride];
        for (int c = 1; c < Copies; c++)
        {
            var copy = histogram.Slice(c * stride, stride);
            for (int b = 0; b < stride; b++)
            {
                mass[b] += copy[b];
            }
        }

        double total = 0;
        foreach (double binMass in mass)
        {
            total += binMass;
        }

        double goal = target * total;
        double above = 0;
        int boundary = bins;
        for (int b = 0; b < bins; b++)
        {
            if (above + mass[b] >= goal)
            {
                boundary = b;
                break;
            }

            above += mass[b];
        }

        // boundary == bins (the far bin) only when the bins were capped at MaxBins (rows of tens of millions of tokens).
        var scratch = ArrayPool<float>.Shared.Rent(x.Length);
        try
        {
            int count = Gather(x, m, boundary + RoundingOffset, boundary == bins ? float.PositiveInfinity : boundary + RoundingOffset, scratch);
            return Refine(scratch.AsSpan(0, count), m, goal - above);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Rows at least this long try <see cref="TryTopWindow"/> first when a sample suggests a peaked row.</summary>
    private const int WindowRowLength = 8192;

    /// <summary>The most tokens <see cref="TryTopWindow"/> collects before it gives up.</summary>
    private const int WindowCapacity = 2048;

    /// <summary>Tokens of the strided sample that guesses whether a row is peaked.</summary>
    private const int SampleLength = 256;

    /// <summary>
    /// The peaked-row path: when a strided sample suggests that the bulk of the row holds little mass (a confident step,
    /// whose nucleus is a few tokens), one pass computes the exact total and collects every token above the sample's
    /// largest value (a few hundred at most on such rows); if those tokens hold the target, the cut is among them and
    /// <see cref="Refine"/> finds it. Returns false when the sample says otherwise, too many tokens qualify, or their
    /// mass falls short; the histogram then decides. The guess only chooses between two exact paths.
    /// </summary>
    private static bool TryTopWindow(ReadOnlySpan<float> x, float m, double target, out float threshold)
    {
        threshold = float.NegativeInfinity;
        if (x.Length < WindowRowLength)
        {
            return false;
        }

        // The bulk's mass, estimated from every stride-th token, against what the tail of a peaked row may hold (the
        // maximum alone holds 1; a handful of peaks a few more). A wrong guess costs one exp-sum pass.
        int stride = x.Length / SampleLength;
        float sample = 0;
        float level = float.NegativeInfinity;
        for (int i = 0; i < SampleLength; i++)
        {
            float z = x[i * stride];
            sample += VectorExp.Exp(z - m);
            level = Math.Max(level, z);
        }

        if ((double)sample * stride > 10 * (1 - target))
        {
            return false;
        }

        var buffer = ArrayPool<float>.Shared.Rent(WindowCapacity);
        try
        {
            int count = SumAndCollect(x, m, level, buffer.AsSpan(0, WindowCapacity), out double total);
            if (count < 0)
            {
                return false;
            }

            var top = buffer.AsSpan(0, count);
            double goal = target * total;
            double held = 0;
            foreach (float z in top)
            {
                held += VectorExp.Exp(z - m);
            }

            if (held < goal)
            {
                return false;
            }

            threshold = Refine(top, m, goal);
            return true;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <c>Σ exp(z − m)</c> over the row (float32 lanes flushed to float64 every 1024 tokens), and the tokens above
    /// <paramref name="level"/> copied into <paramref name="collected"/>; returns their count, or −1 if they do not fit.
    /// </summary>
    private static int SumAndCollect(ReadOnlySpan<float> x, float m, float level, Span<float> collected, out double total)
    {
        int count = 0;
        total = 0;
        int done = 0;
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = SumAndCollect<VectorWidth512, Vector512<float>>(x, m, level, collected, ref count, ref total);
        }
        else if (VectorWidth256.IsHardwareAccelerated && x.Length >= VectorWidth256.Count)
        {
            done = SumAndCollect<VectorWidth256, Vector256<float>>(x, m, level, collected, ref count, ref total);
        }
        else if (VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count)
        {
            done = SumAndCollect<VectorWidth128, Vector128<float>>(x, m, level, collected, ref count, ref total);
        }

        if (count < 0)
        {
            return -1;
        }

        float tail = 0;
        for (int i = done; i < x.Length; i++)
        {
            float z = x[i];
            float e = VectorExp.Exp(z - m);
            if (i - done == SimdLoops.FlushLength)
            {
                total += tail;
                tail = 0;
                done = i;
            }

            tail += e;
            if (z > level)
            {
                if (count == collected.Length)
                {
                    return -1;
                }

                collected[count++] = z;
            }
        }

        total += tail;
        return count;
    }

    private static int SumAndCollect<TWidth, TVector>(ReadOnlySpan<float> x, float m, float level, Span<float> collected, ref int count, ref double total)
        where TWidth : IVectorWidth<TVector>
    {
        var maximum = TWidth.Create(m);
        var bound = TWidth.Create(level);
        int n = count;
        int vectors = x.Length - (x.Length % TWidth.Count);
        int i = 0;
        while (i < vectors)
        {
            var sum = TWidth.Create(0f);
            int end = Math.Min(vectors, i + SimdLoops.FlushLength);
            for (; i < end; i += TWidth.Count)
            {
                var z = TWidth.Load(x, i);
                sum = TWidth.Add(sum, VectorExp.Exp<TWidth, TVector>(TWidth.Subtract(z, maximum)));
                ulong lanes = TWidth.ExtractMostSignificantBits(TWidth.GreaterThan(z, bound));
                if (lanes != 0)
                {
                    if (n + BitOperations.PopCount(lanes) > collected.Length)
                    {
                        count = -1;
                        return i;
                    }

                    do
                    {
                        collected[n++] = x[i + BitOperations.TrailingZeroCount(lanes)];
                        lanes &= lanes - 1;
                    }
                    while (lanes != 0);
                }
            }

            total += TWidth.Sum(sum);
        }

        count = n;
        return i;
    }

    /// <summary>
    /// Adds each token's <c>e</c> to its bin of the histogram (<see cref="Copies"/> interleaved copies of <c>bins + 1</c>
    /// bins each, the last one the far bin).
    /// </summary>
    /// <remarks>
    /// Vectors compute <c>e</c> and the clamped bin offset of a chunk of tokens into two small buffers, then a scalar
    /// loop adds them, each token to copy <c>j mod 4</c>: reading the buffers back long after they were written costs
    /// no store-forwarding stall (reading a lane right after a 512-bit store did, about 2 ns a token), and the copies
    /// keep runs of one bin from waiting on their own stores. A vector whose lanes are all far only adds to a vector sum.
    /// The far limit tightens as the pass goes: with <c>R</c> the mass seen so far (≤ the total), a token
    /// <c>reach − ln R</c> logits below the maximum already holds at most <c>(1 − target)·S/(2V)</c>. A token counted
    /// near early on is still in its right bin, and the cut itself lies above the final limit, so every token at or
    /// above it is in a near bin whichever limit applied when it was read.
    /// </remarks>
    internal static void Accumulate(ReadOnlySpan<float> x, float m, int bins, double reach, Span<double> histogram)
    {
        int stride = bins + 1;
        int done = 0;
        Span<double> exps = stackalloc double[ChunkLength];
        Span<float> keys = stackalloc float[ChunkLength];
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = Accumulate<VectorWidth512, Vector512<float>>(x, m, bins, reach, histogram, exps, keys);
        }
        else if (VectorWidth256.IsHardwareAccelerated && x.Length >= VectorWidth256.Count)
        {
            done = Accumulate<VectorWidth256, Vector256<float>>(x, m, bins, reach, histogram, exps, keys);
        }
        else if (VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count)
        {
            done = Accumulate<VectorWidth128, Vector128<float>>(x, m, bins, reach, histogram, exps, keys);
        }

        float limit = bins + RoundingOffset;
        for (int i = done; i < x.Length; i++)
        {
            float z = x[i];
            float e = VectorExp.Exp(z - m);
            float key = Key(z, m);
            histogram[((i & (Copies - 1)) * stride) + BitConverter.SingleToInt32Bits(key < limit ? key : limit) - RoundingBits] += e;
        }
    }

    /// <summary>Tokens whose <c>e</c> and bin a vector pass computes before the scalar loop adds them.</summary>
    private const int ChunkLength = 256;

    private static int Accumulate<TWidth, TVector>(ReadOnlySpan<float> x, float m, int bins, double reach, Span<double> histogram, Span<double> exps, Span<float> keys)
        where TWidth : IVectorWidth<TVector>
    {
        var maximum = TWidth.Create(m);
        var scale = TWidth.Create(BinsPerLogit);
        var offset = TWidth.Create(RoundingOffset);
        var farKey = TWidth.Create(bins + RoundingOffset);
        var limit = farKey;
        double seen = 0;
        int stride = bins + 1;
        ref double bin = ref histogram[0];
        ref double e0 = ref exps[0];
        ref int k0 = ref MemoryMarshal.Cast<float, int>(keys)[0];
        int vectors = x.Length - (x.Length % TWidth.Count);
        int i = 0;
        while (i < vectors)
        {
            // The far lanes of all-far vectors: float32 lane sums over at most ChunkLength tokens, then float64.
            var farSum = TWidth.Create(0f);
            var chunkSum = TWidth.Create(0f);
            int end = Math.Min(vectors, i + ChunkLength);
            int stored = 0;
            for (; i < end; i += TWidth.Count)
            {
                var z = TWidth.Load(x, i);
                var e = VectorExp.Exp<TWidth, TVector>(TWidth.Subtract(z, maximum));
                var key = TWidth.Add(TWidth.Multiply(TWidth.Subtract(maximum, z), scale), offset);
                var near = TWidth.LessThan(key, limit);
                chunkSum = TWidth.Add(chunkSum, e);
                if (TWidth.ExtractMostSignificantBits(near) == 0)
                {
                    farSum = TWidth.Add(farSum, e);
                    continue;
                }

                StoreWidened(e, exps, stored);
                TWidth.Store(TWidth.ConditionalSelect(near, key, farKey), keys, stored);
                stored += TWidth.Count;
            }

            // stored is a multiple of the width, hence of Copies.
            for (int j = 0; j < stored; j += Copies)
            {
                Unsafe.Add(ref bin, Unsafe.Add(ref k0, j) - RoundingBits) += Unsafe.Add(ref e0, j);
                Unsafe.Add(ref bin, stride + Unsafe.Add(ref k0, j + 1) - RoundingBits) += Unsafe.Add(ref e0, j + 1);
                Unsafe.Add(ref bin, (2 * stride) + Unsafe.Add(ref k0, j + 2) - RoundingBits) += Unsafe.Add(ref e0, j + 2);
                Unsafe.Add(ref bin, (3 * stride) + Unsafe.Add(ref k0, j + 3) - RoundingBits) += Unsafe.Add(ref e0, j + 3);
            }

            Unsafe.Add(ref bin, bins) += TWidth.Sum(farSum);
            seen += TWidth.Sum(chunkSum);
            if (seen > 1)
            {
                double tighter = Math.Ceiling((reach - Math.Log(seen)) * BinsPerLogit) + 1;
                limit = TWidth.Create((float)Math.Min(bins, tighter) + RoundingOffset);
            }
        }

        return i;
    }

    /// <summary>
    /// Stores the lanes of <paramref name="e"/> as float64 (exact): the scalar loop then adds them without a per-token
    /// float-to-double conversion, whose merge into the previous register value chained every token to the last one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreWidened<TVector>(TVector e, Span<double> destination, int index)
    {
        ref double target = ref destination[index];
        if (typeof(TVector) == typeof(Vector512<float>))
        {
            var (lower, upper) = Vector512.Widen(Unsafe.As<TVector, Vector512<float>>(ref e));
            lower.StoreUnsafe(ref target);
            upper.StoreUnsafe(ref target, (nuint)Vector512<double>.Count);
        }
        else if (typeof(TVector) == typeof(Vector256<float>))
        {
            var (lower, upper) = Vector256.Widen(Unsafe.As<TVector, Vector256<float>>(ref e));
            lower.StoreUnsafe(ref target);
            upper.StoreUnsafe(ref target, (nuint)Vector256<double>.Count);
        }
        else
        {
            var (lower, upper) = Vector128.Widen(Unsafe.As<TVector, Vector128<float>>(ref e));
            lower.StoreUnsafe(ref target);
            upper.StoreUnsafe(ref target, (nuint)Vector128<double>.Count);
        }
    }

    /// <summary>Copies the finite tokens with <c>low ≤ key ≤ high</c> into <paramref name="members"/>; returns their count.</summary>
    internal static int Gather(ReadOnlySpan<float> x, float m, float low, float high, Span<float> members)
    {
        int count = 0;
        int done = 0;
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = Gather<VectorWidth512, Vector512<float>>(x, m, low, high, members, ref count);
        }
        else if (VectorWidth256.IsHardwareAccelerated && x.Length >= VectorWidth256.Count)
        {
            done = Gather<VectorWidth256, Vector256<float>>(x, m, low, high, members, ref count);
        }
        else if (VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count)
        {
            done = Gather<VectorWidth128, Vector128<float>>(x, m, low, high, members, ref count);
        }

        for (int i = done; i < x.Length; i++)
        {
            // A −∞ token's key is +∞ (so is an extreme finite token's: m − z overflows), hence the explicit test.
            float key = Key(x[i], m);
            if (key >= low && key <= high && x[i] > float.NegativeInfinity)
            {
                members[count++] = x[i];
            }
        }

        return count;
    }

    private static int Gather<TWidth, TVector>(ReadOnlySpan<float> x, float m, float low, float high, Span<float> members, ref int count)
        where TWidth : IVectorWidth<TVector>
    {
        var maximum = TWidth.Create(m);
        var scale = TWidth.Create(BinsPerLogit);
        var offset = TWidth.Create(RoundingOffset);
        var removed = TWidth.Create(float.NegativeInfinity);
        var lowVector = TWidth.Create(low);
        var highVector = TWidth.Create(high);
        int n = count;
        int i = 0;
        for (; i <= x.Length - TWidth.Count; i += TWidth.Count)
        {
            var z = TWidth.Load(x, i);
            var key = TWidth.Add(TWidth.Multiply(TWidth.Subtract(maximum, z), scale), offset);
            ulong lanes = TWidth.ExtractMostSignificantBits(TWidth.GreaterThan(z, removed))
                & ~TWidth.ExtractMostSignificantBits(TWidth.Or(TWidth.LessThan(key, lowVector), TWidth.GreaterThan(key, highVector)));
            while (lanes != 0)
            {
                members[n++] = x[i + BitOperations.TrailingZeroCount(lanes)];
                lanes &= lanes - 1;
            }
        }

        count = n;
        return i;
    }

    /// <summary>
    /// The cut inside one bin: the value at which the running mass of <paramref name="members"/>, walked by value
    /// descending, first reaches <paramref name="residual"/>; narrows the candidates by value sub-bins until few are left.
    /// </summary>
    internal static float Refine(Span<float> members, float m, double residual)
    {
        Span<double> mass = stackalloc double[SubBins];
        float[]? exps = null;
        try
        {
            while (members.Length > SortLength)
            {
                float low = System.Numerics.Tensors.TensorPrimitives.Min(members);
                float high = System.Numerics.Tensors.TensorPrimitives.Max(members);
                if (low == high)
                {
                    // One tie group: kept whole.
                    return high;
                }

                exps ??= ArrayPool<float>.Shared.Rent(members.Length);
                var e = exps.AsSpan(0, members.Length);
                VectorExp.ExpShiftedSum(members, m, e);

                // Sub-bin ⌊(high − z)·scale⌋ in float64: monotone in z, and 0 for `high` but the last for `low`, so each step
                // leaves fewer candidates.
                double scale = SubBins / ((double)high - low);
                mass.Clear();
                for (int i = 0; i < members.Length; i++)
                {
                    mass[SubBin(members[i], high, scale)] += e[i];
                }

                double above = 0;
                int boundary = SubBins - 1;
                for (int b = 0; b < SubBins; b++)
                {
                    if (above + mass[b] >= residual)
                    {
                        boundary = b;
                        break;
                    }

                    above += mass[b];
                }

                if (boundary == SubBins - 1 && above + mass[boundary] < residual)
                {
                    // Rounding left the bin's mass just short: everything down to its lowest value is in the cut.
                    return low;
                }

                residual -= above;
                int kept = 0;
                for (int i = 0; i < members.Length; i++)
                {
                    if (SubBin(members[i], high, scale) == boundary)
                    {
                        members[kept++] = members[i];
                    }
                }

                members = members[..kept];
            }

            members.Sort();
            double cumulative = 0;
            for (int i = members.Length - 1; i >= 0; i--)
            {
                cumulative += VectorExp.Exp(members[i] - m);
                if (cumulative >= residual)
                {
                    return members[i];
                }
            }

            return members[0];
        }
        finally
        {
            if (exps is not null)
            {
                ArrayPool<float>.Shared.Return(exps);
            }
        }
    }

    /// <summary>
    /// A token's bin key: <c>(m − z)·8 + 2²³</c>, i.e. its distance below the maximum in eighths of a logit rounded to the
    /// nearest integer, as a float whose low bits are that integer (+∞ for −∞). Each step is one IEEE operation, so the
    /// vector forms give the same key; the product is exact and the rounding monotone, so keys never reorder tokens.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Key(float z, float m) => ((m - z) * BinsPerLogit) + RoundingOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SubBin(float z, float high, double scale) => Math.Min(SubBins - 1, (int)(((double)high - z) * scale));
}

using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Logits.Tensors.Cpu;

/// <summary>
/// The exact rank-order mass cut of a row without sorting it (docs/algorithms/truncation.md#top-p): the value of the
/// token at which a walk from the top, adding <c>exp(z − m)</c>, first reaches a target mass.
/// </summary>
/// <remarks>
/// <para>
/// One vectorised pass computes every token's <c>e = exp(z − m)</c> (<see cref="VectorExp"/>) and its distance below
/// the maximum in bins of 1/8 logit, <c>s = (m − z)·8</c>, and adds <c>e</c> in float64 to bin <c>⌊s⌋</c>. Bins are
/// ordered by value, so walking them from bin 0 finds the one bin where the running mass reaches the target; only
/// that bin's tokens are gathered (a second SIMD pass), and the cut inside it is found the same way on finer bins of
/// its own value range, until a few dozen values are left to sort. Every step uses the same float32 <c>e</c> of each
/// token (the scalar and vector forms of the exp give the same bits), accumulated in float64.
/// </para>
/// <para>
/// Far tokens: a token whose <c>e</c> is at most <c>(1 − target)/(2V)</c> (in units where the maximum's is 1) can never
/// be inside the cut, since all of them together hold at most half the mass left over. Their bin index is therefore
/// never used: a vector whose lanes are all that far only adds its <c>e</c> to the total, with no scatter.
/// </para>
/// <para>
/// Why <c>·8</c>: a power of two, so <c>s</c> is exact given the float32 difference <c>m − z</c>, the same in every
/// lane width and in the scalar tail, and monotone in <c>z</c> (bins never reorder tokens).
/// </para>
/// </remarks>
internal static class MassCut
{
    /// <summary>Bins per logit below the maximum (a power of two: the scaling is exact).</summary>
    private const float BinsPerLogit = 8f;

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

        // Tokens at least `reach` logits below the maximum hold e ≤ (1 − target)/(2V) each: never inside the cut.
        double reach = Math.Log(2.0 * x.Length / (1 - target));
        int bins = (int)Math.Clamp(Math.Ceiling(reach * BinsPerLogit), 1, MaxBins);
        Span<double> histogram = stackalloc double[Copies * MaxBins];
        histogram[..(Copies * bins)].Clear();
        double far = Accumulate(x, m, bins, histogram);

        // Fold the copies into the first one.
        var mass = histogram[..bins];
        for (int c = 1; c < Copies; c++)
        {
            var copy = histogram.Slice(c * bins, bins);
            for (int b = 0; b < bins; b++)
            {
                mass[b] += copy[b];
            }
        }

        double total = far;
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
            int count = Gather(x, m, boundary, boundary == bins ? float.PositiveInfinity : boundary + 1, scratch);
            return Refine(scratch.AsSpan(0, count), m, goal - above);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Adds each token's <c>e</c> to its bin (copy <c>lane mod 4</c>); returns the far tokens' total (every 1024 tokens flushed to float64).</summary>
    private static double Accumulate(ReadOnlySpan<float> x, float m, int bins, Span<double> histogram)
    {
        int done = 0;
        double far = 0;
        if (VectorWidth512.IsHardwareAccelerated && x.Length >= VectorWidth512.Count)
        {
            done = Accumulate<VectorWidth512, Vector512<float>>(x, m, bins, histogram, ref far);
        }
        else if (VectorWidth256.IsHardwareAccelerated && x.Length >= VectorWidth256.Count)
        {
            done = Accumulate<VectorWidth256, Vector256<float>>(x, m, bins, histogram, ref far);
        }
        else if (VectorWidth128.IsHardwareAccelerated && x.Length >= VectorWidth128.Count)
        {
            done = Accumulate<VectorWidth128, Vector128<float>>(x, m, bins, histogram, ref far);
        }

        float limit = bins;
        for (int i = done; i < x.Length; i++)
        {
            float z = x[i];
            float e = VectorExp.Exp(z - m);
            float s = (m - z) * BinsPerLogit;
            if (s < limit)
            {
                histogram[((i & (Copies - 1)) * bins) + (int)s] += e;
            }
            else
            {
                far += e;
            }
        }

        return far;
    }

    private static int Accumulate<TWidth, TVector>(ReadOnlySpan<float> x, float m, int bins, Span<double> histogram, ref double far)
        where TWidth : IVectorWidth<TVector>
    {
        var maximum = TWidth.Create(m);
        var scale = TWidth.Create(BinsPerLogit);
        var limit = TWidth.Create(bins);
        var zero = TWidth.Create(0f);
        Span<float> exps = stackalloc float[TWidth.Count];
        Span<float> offsets = stackalloc float[TWidth.Count];
        ulong allLanes = TWidth.Count == 64 ? ulong.MaxValue : (1UL << TWidth.Count) - 1;
        ref double bin = ref histogram[0];
        int end = x.Length - TWidth.Count;
        int i = 0;
        while (i <= end)
        {
            // Far lanes are summed in float32 lanes, flushed to float64 every FlushLength tokens (as the exp sums are).
            var farSum = zero;
            int flushAt = Math.Min(end, i + SimdLoops.FlushLength - TWidth.Count);
            for (; i <= flushAt; i += TWidth.Count)
            {
                var z = TWidth.Load(x, i);
                var e = VectorExp.Exp<TWidth, TVector>(TWidth.Subtract(z, maximum));
                var s = TWidth.Multiply(TWidth.Subtract(maximum, z), scale);
                var near = TWidth.LessThan(s, limit);
                ulong lanes = TWidth.ExtractMostSignificantBits(near);
                if (lanes == 0)
                {
                    farSum = TWidth.Add(farSum, e);
                    continue;
                }

                farSum = TWidth.Add(farSum, TWidth.ConditionalSelect(near, zero, e));
                TWidth.Store(e, exps, 0);
                TWidth.Store(s, offsets, 0);
                if (lanes == allLanes)
                {
                    for (int lane = 0; lane < TWidth.Count; lane++)
                    {
                        Unsafe.Add(ref bin, ((lane & (Copies - 1)) * bins) + (int)offsets[lane]) += exps[lane];
                    }
                }
                else
                {
                    do
                    {
                        int lane = BitOperations.TrailingZeroCount(lanes);
                        Unsafe.Add(ref bin, ((lane & (Copies - 1)) * bins) + (int)offsets[lane]) += exps[lane];
                        lanes &= lanes - 1;
                    }
                    while (lanes != 0);
                }
            }

            far += TWidth.Sum(farSum);
        }

        return i;
    }

    /// <summary>Copies the finite tokens with <c>low ≤ (m − z)·8 &lt; high</c> into <paramref name="members"/>; returns their count.</summary>
    private static int Gather(ReadOnlySpan<float> x, float m, float low, float high, Span<float> members)
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
            // s = +∞ for a −∞ token, so `s < high` leaves it out even in the far bin (high = +∞).
            float s = (m - x[i]) * BinsPerLogit;
            if (s >= low && s < high)
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
        var lowVector = TWidth.Create(low);
        var highVector = TWidth.Create(high);
        int n = count;
        int i = 0;
        for (; i <= x.Length - TWidth.Count; i += TWidth.Count)
        {
            var z = TWidth.Load(x, i);
            var s = TWidth.Multiply(TWidth.Subtract(maximum, z), scale);
            ulong lanes = TWidth.ExtractMostSignificantBits(TWidth.LessThan(s, highVector))
                & ~TWidth.ExtractMostSignificantBits(TWidth.LessThan(s, lowVector));
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
    private static float Refine(Span<float> members, float m, double residual)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SubBin(float z, float high, double scale) => Math.Min(SubBins - 1, (int)(((double)high - z) * scale));
}

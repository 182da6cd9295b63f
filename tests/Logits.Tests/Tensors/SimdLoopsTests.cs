using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Tensors.Cpu;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The shared element loops of the CPU kernels (<see cref="SimdLoops"/>), through the row routines built on them
/// (scale, mask-below, the checked maximum with and without copy, the shifted exp and sum), against float64
/// references: every length 0..67, 127..129 and 4095..4097, with NaN, ±∞, −0 and huge values at the head, in the
/// vector body, at the edges of the last 128/256/512-bit vector and in the scalar tail.
/// </summary>
/// <remarks>
/// The namespace is <c>Logits.Tests.Tensors</c>, so CI runs this class again with AVX-512 and with AVX2 switched
/// off: the 512-, 256- and 128-bit instantiations of every loop are all compared with the same references.
/// </remarks>
public sealed class SimdLoopsTests
{
    private const float Sentinel = 12345.5f;

    private static readonly float[] Specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f, 3.0e38f, -3.0e38f };

    public static TheoryData<int> Lengths()
    {
        var data = new TheoryData<int>();
        foreach (int length in Enumerable.Range(0, 68).Concat(new[] { 127, 128, 129, 4095, 4096, 4097 }))
        {
            data.Add(length);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Scale_loop_matches_the_float64_product_bit_for_bit_and_reports_the_first_invalid_token(int length)
    {
        foreach (var (name, x) in Rows(length))
        {
            foreach (float factor in new[] { 1.7f, 0.25f })
            {
                // float(double(x) · double(f)) is the correctly rounded float product: the 48-bit exact product fits a double.
                CheckMap(x, name + $", factor {factor}", "scale", v => (float)((double)v * factor), (s, d) => CpuKernels.ScaleRow(s, factor, d, 3));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Mask_below_loop_matches_the_reference_bit_for_bit_and_reports_the_first_invalid_token(int length)
    {
        foreach (var (name, x) in Rows(length))
        {
            foreach (float threshold in new[] { 0f, -0.5f, float.NegativeInfinity })
            {
                CheckMap(x, name + $", threshold {threshold}", "input", v => (double)v < threshold ? float.NegativeInfinity : v, (s, d) => CpuKernels.MaskBelowRow(s, threshold, d, 3));
                if (x.All(v => v < float.PositiveInfinity))
                {
                    CheckKeptIds(x, threshold, name + $", threshold {threshold}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Unchecked_map_matches_the_float64_product_bit_for_bit_and_writes_nothing_past_the_row(int length)
    {
        foreach (var (name, x) in Rows(length))
        {
            // The unchecked loop (softmax's final scale) passes every value through, NaN and ±∞ included.
            var expected = x.Select(v => (float)((double)v * 0.3f)).ToArray();
            var destination = Enumerable.Repeat(Sentinel, length + 3).ToArray();
            SimdLoops.Map<MultiplyOperator>(x, 0.3f, destination);
            var inPlace = (float[])x.Clone();
            SimdLoops.Map<MultiplyOperator>(inPlace, 0.3f, inPlace);
            for (int i = 0; i < length; i++)
            {
                Assert.True(Bits(expected[i]) == Bits(destination[i]) || (float.IsNaN(expected[i]) && float.IsNaN(destination[i])), $"{name}: token {i} is {destination[i]:R}, expected {expected[i]:R}");
                Assert.True(Bits(destination[i]) == Bits(inPlace[i]), $"{name}: in place, token {i}");
            }

            Assert.All(destination.Skip(length), v => Assert.Equal(Sentinel, v));
        }
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1000)]
    [InlineData(4097)]
    public void In_place_mask_on_a_checked_row_records_sparse_kept_ids_in_any_group_position(int length)
    {
        // A tight cut: a few survivors at every offset within a group of four vectors (the fast loop tests four at once
        // and redoes a group with survivors vector by vector), and more survivors than slots (the count turns −1).
        var random = new Random(length);
        for (int trial = 0; trial < 200; trial++)
        {
            var x = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 4)).ToArray();
            int survivors = 1 + random.Next(12);
            for (int s = 0; s < survivors; s++)
            {
                x[random.Next(length)] = 5f + (float)random.NextDouble();
            }

            if (trial % 3 == 0)
            {
                x[random.Next(length)] = float.NegativeInfinity;
            }

            var expected = Enumerable.Range(0, length).Where(i => x[i] >= 1f).ToArray();
            foreach (int slots in new[] { 64, expected.Length, Math.Max(1, expected.Length - 1) })
            {
                var row = (float[])x.Clone();
                var kept = new int[slots];
                int count = CpuKernels.MaskBelowCheckedInPlace(row, 1f, kept);
                int want = expected.Length > slots ? -1 : expected.Length;
                Assert.True(count == want, $"V = {length}, trial {trial}, {slots} slots: recorded {count}, expected {want}");
                Assert.Equal(x.Select(v => v < 1f ? float.NegativeInfinity : v).Select(Bits), row.Select(Bits));
                if (want >= 0)
                {
                    Assert.Equal(expected, kept.Take(count));
                }
            }
        }
    }

    /// <summary>
    /// The support-recording forms of mask-below (checked, and in place on a checked row) record exactly the ids left
    /// above −∞, ascending, or −1 when there are more than the slots hold.
    /// </summary>
    private static void CheckKeptIds(float[] x, float threshold, string name)
    {
        var masked = x.Select(v => v < threshold ? float.NegativeInfinity : v).ToArray();
        var expected = Enumerable.Range(0, x.Length).Where(i => masked[i] > float.NegativeInfinity).ToArray();
        foreach (int slots in new[] { x.Length + 1, expected.Length, Math.Max(1, expected.Length - 1), 5 })
        {
            var kept = new int[slots];
            int want = slots == 0 || expected.Length > slots ? -1 : expected.Length;
            var destination = new float[x.Length];
            int count = CpuKernels.MaskBelowRow(x, threshold, destination, 3, kept);
            Assert.True(count == want, $"{name}, {slots} slots: recorded {count}, expected {want}");
            Assert.Equal(masked.Select(Bits), destination.Select(Bits));
            if (want >= 0)
            {
                Assert.Equal(expected, kept.Take(count));
            }

            var inPlace = (float[])x.Clone();
            int inPlaceCount = CpuKernels.MaskBelowCheckedInPlace(inPlace, threshold, kept);
            Assert.True(inPlaceCount == want, $"{name}, {slots} slots, checked in place: recorded {inPlaceCount}, expected {want}");
            Assert.Equal(masked.Select(Bits), inPlace.Select(Bits));
            if (want >= 0)
            {
                Assert.Equal(expected, kept.Take(inPlaceCount));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Checked_max_with_and_without_copy_matches_the_float64_maximum(int length)
    {
        foreach (var (name, x) in Rows(length))
        {
            int firstInvalid = Array.FindIndex(x, v => !(v < float.PositiveInfinity));
            var copy = Enumerable.Repeat(Sentinel, length + 3).ToArray();
            float? max = null;
            float? copiedMax = null;
            var error = Record.Exception(() => max = RowMath.CheckedMax(x, 3));
            var copyError = Record.Exception(() => copiedMax = RowMath.CopyCheckedMax(x, copy, 3));

            // The copy is complete even when the check throws, and nothing past the row is written.
            Assert.True(x.Select(Bits).SequenceEqual(copy.Take(length).Select(Bits)), $"{name}: copy differs");
            Assert.All(copy.Skip(length), v => Assert.Equal(Sentinel, v));
            if (firstInvalid >= 0)
            {
                AssertInvalid(error, firstInvalid, x[firstInvalid], "input", name + ", max");
                AssertInvalid(copyError, firstInvalid, x[firstInvalid], "input", name + ", copy-max");
                continue;
            }

            Assert.Null(error);
            Assert.Null(copyError);
            float expected = ReferenceMaximum(x);
            Assert.True(Bits(expected) == Bits(max!.Value), $"{name}: max {max:R}, expected {expected:R}");
            Assert.True(Bits(expected) == Bits(copiedMax!.Value), $"{name}: copy-max {copiedMax:R}, expected {expected:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Shifted_exp_and_sum_loop_matches_the_scalar_exp_bit_for_bit_and_the_float64_sum(int length)
    {
        foreach (var (name, row) in Rows(length))
        {
            // Its input is checked before (entries ≤ m, no NaN): invalid specials become −∞ here.
            var x = row.Select(v => v < float.PositiveInfinity ? v : float.NegativeInfinity).ToArray();
            float m = x.Length == 0 ? 0f : Math.Max(0f, x.Max());
            var stored = Enumerable.Repeat(Sentinel, length + 3).ToArray();
            double sum = VectorExp.ExpShiftedSum(x, m, stored);
            double sumOnly = VectorExp.ExpShiftedSum(x, m);
            var inPlace = (float[])x.Clone();
            double sumInPlace = VectorExp.ExpShiftedSum(inPlace, m, inPlace);

            double reference = 0;
            for (int i = 0; i < length; i++)
            {
                float expected = VectorExp.Exp(x[i] - m);
                Assert.True(Bits(expected) == Bits(stored[i]), $"{name}: token {i}, exp({x[i]:R} - {m:R}) = {stored[i]:R}, scalar form {expected:R}");
                Assert.True(Bits(expected) == Bits(inPlace[i]), $"{name}: in place, token {i}");
                reference += Math.Exp((double)x[i] - m);
            }

            Assert.All(stored.Skip(length), v => Assert.Equal(Sentinel, v));
            Assert.Equal(sum, sumOnly);
            Assert.Equal(sum, sumInPlace);
            Assert.True(Math.Abs(sum - reference) <= 1e-6 * reference, $"{name}: sum {sum:R}, float64 reference {reference:R}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_zero_maximum_is_positive_zero_exactly_when_the_row_holds_one_whatever_the_width(int length)
    {
        if (length == 0)
        {
            return;
        }

        foreach (int position in Positions(length))
        {
            // Only zeros and negatives: the maximum is a zero, and its sign must not depend on where the +0 sits.
            var x = Enumerable.Range(0, length).Select(i => i % 3 == 0 ? -0f : -1f - i).ToArray();
            Assert.True(Bits(RowMath.CheckedMax(x, 0)) == Bits(-0f), $"V = {length}: only -0");
            x[position] = 0f;
            Assert.True(Bits(RowMath.CheckedMax(x, 0)) == Bits(0f), $"V = {length}: +0 at {position}");
            Assert.True(Bits(RowMath.CopyCheckedMax(x, new float[length], 0)) == Bits(0f), $"V = {length}: copy, +0 at {position}");
        }
    }

    [Theory]
    [InlineData(4097)]
    [InlineData(128256)]
    public void Row_routines_on_the_shared_loops_allocate_nothing(int length)
    {
        var x = LogitData.Random(1, length, 7);
        var destination = new float[length];
        var kept = new int[RowSupport.Capacity];
        double sink = 0;
        for (int warm = 0; warm < 3; warm++)
        {
            Run();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int call = 0; call < 20; call++)
        {
            Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(double.IsNaN(sink));

        void Run()
        {
            CpuKernels.ScaleRow(x, 0.8f, destination, 0);
            SimdLoops.Map<MultiplyOperator>(x, 0.8f, destination);
            sink += CpuKernels.MaskBelowRow(x, 0f, destination, 0, kept);
            sink += RowMath.CheckedMax(x, 0) + RowMath.CopyCheckedMax(x, destination, 0);
            float m = RowMath.CheckedMax(x, 0);
            sink += VectorExp.ExpShiftedSum(x, m, destination) + VectorExp.ExpShiftedSum(x, m);
            CpuKernels.SoftmaxRow(x, destination, 0);
            CpuKernels.LogSoftmaxRow(x, destination, 0);
        }
    }

    /// <summary>
    /// Runs a checked element-wise row routine out of place and in place and compares every element bit for bit
    /// with <paramref name="reference"/>; on an invalid input or result, compares the exception with the first
    /// offender and checks that exactly the tokens before it were written.
    /// </summary>
    private static void CheckMap(float[] x, string name, string resultStage, Func<float, float> reference, SpanAction run)
    {
        int length = x.Length;
        int firstInvalid = -1;
        string stage = "input";
        var expected = new float[length];
        for (int i = 0; i < length && firstInvalid < 0; i++)
        {
            expected[i] = reference(x[i]);
            if (!(x[i] < float.PositiveInfinity) || !(expected[i] < float.PositiveInfinity))
            {
                firstInvalid = i;
                stage = x[i] < float.PositiveInfinity ? resultStage : "input";
            }
        }

        int written = firstInvalid < 0 ? length : firstInvalid;
        var destination = Enumerable.Repeat(Sentinel, length + 3).ToArray();
        var inPlace = (float[])x.Clone();
        var error = Record.Exception(() => run(x, destination));
        var inPlaceError = Record.Exception(() => run(inPlace, inPlace));
        for (int i = 0; i < length + 3; i++)
        {
            float want = i < written ? expected[i] : Sentinel;
            Assert.True(Bits(want) == Bits(destination[i]), $"{name}: token {i} is {destination[i]:R}, expected {want:R}");
            if (i < length)
            {
                float wantInPlace = i < written ? expected[i] : x[i];
                Assert.True(Bits(wantInPlace) == Bits(inPlace[i]), $"{name}: in place, token {i} is {inPlace[i]:R}, expected {wantInPlace:R}");
            }
        }

        if (firstInvalid < 0)
        {
            Assert.Null(error);
            Assert.Null(inPlaceError);
            return;
        }

        float value = stage == "input" ? x[firstInvalid] : expected[firstInvalid];
        AssertInvalid(error, firstInvalid, value, stage, name);
        AssertInvalid(inPlaceError, firstInvalid, value, stage, name + ", in place");
    }

    private static void AssertInvalid(Exception? error, int token, float value, string stage, string name)
    {
        var invalid = Assert.IsType<InvalidLogitsException>(error);
        Assert.True(invalid.Row == 3 && invalid.TokenIndex == token && invalid.Stage == stage && Bits(invalid.Value) == Bits(value),
            $"{name}: reported row {invalid.Row}, token {invalid.TokenIndex} ({invalid.Value:R}, '{invalid.Stage}'), expected row 3, token {token} ({value:R}, '{stage}')");
    }

    /// <summary>The float64 maximum of a valid row as a float; a zero maximum is +0 if the row holds a +0.</summary>
    private static float ReferenceMaximum(float[] x)
    {
        double m = double.NegativeInfinity;
        foreach (float v in x)
        {
            m = Math.Max(m, v);
        }

        return m == 0 ? (x.Any(v => v == 0 && !float.IsNegative(v)) ? 0f : -0f) : (float)m;
    }

    /// <summary>
    /// A random row, then for every special value and position class the row with that value there, and for the
    /// invalid ones also a second invalid value further on (the first must be reported).
    /// </summary>
    private static IEnumerable<(string Name, float[] Row)> Rows(int length)
    {
        // Three seeds, so each length sees three of LogitData's row styles (normal, wide, −∞-heavy, ties and zeros...).
        for (int seed = 1000 + length; seed < 1003 + length; seed++)
        {
            foreach (var row in Rows(length == 0 ? Array.Empty<float>() : LogitData.Random(1, length, seed), $"V = {length}, seed {seed}"))
            {
                yield return row;
            }
        }
    }

    private static IEnumerable<(string Name, float[] Row)> Rows(float[] random, string name)
    {
        int length = random.Length;
        yield return (name, random);
        foreach (float special in Specials)
        {
            foreach (int position in Positions(length))
            {
                var x = (float[])random.Clone();
                x[position] = special;
                yield return ($"{name}, {special:R} at {position}", x);
                if (!(special < float.PositiveInfinity) && position + 1 < length)
                {
                    var twice = (float[])x.Clone();
                    twice[length - 1] = float.NaN;
                    twice[(position + length) / 2] = float.PositiveInfinity;
                    yield return ($"{name}, {special:R} at {position}, more invalid after it", twice);
                }
            }
        }
    }

    /// <summary>The head, the middle of the body, the last element, and both sides of the last full 128/256/512-bit vector's end.</summary>
    private static IEnumerable<int> Positions(int length)
    {
        var positions = new SortedSet<int> { 0, 1, length / 2, length - 1 };
        foreach (int lanes in new[] { 4, 8, 16, 64 })
        {
            positions.Add(length - (length % lanes) - 1);
            positions.Add(length - (length % lanes));
        }

        return positions.Where(p => p >= 0 && p < length);
    }

    private static int Bits(float value) => BitConverter.SingleToInt32Bits(value);

    private delegate void SpanAction(ReadOnlySpan<float> source, Span<float> destination);
}

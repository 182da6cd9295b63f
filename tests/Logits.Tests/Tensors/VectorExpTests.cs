using System;
using System.Runtime.Intrinsics;
using FluentAssertions;
using Logits.Tensors.Cpu;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>The CPU kernels' own exp: accuracy against float64 <see cref="Math.Exp"/>, special values, lane/tail agreement.</summary>
public sealed class VectorExpTests
{
    /// <summary>Distance in units in the last place between two positive floats.</summary>
    private static long Ulps(float a, float b) =>
        Math.Abs((long)BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    [Fact]
    public void Scalar_form_is_within_two_ulp_of_float64_exp_over_the_whole_normal_range()
    {
        // Every 97th float between the underflow bound and 0, plus the positive side used by no kernel.
        long worst = 0;
        float worstAt = 0;
        int fromBits = BitConverter.SingleToInt32Bits(VectorExp.Lowest);
        for (int bits = fromBits; bits >= 0; bits -= 97)
        {
            Check(BitConverter.Int32BitsToSingle(bits));
        }

        for (float x = 0; x <= 88f; x += 0.0137f)
        {
            Check(x);
        }

        worst.Should().BeLessThanOrEqualTo(2, $"the largest error was at x = {worstAt:R}");

        void Check(float x)
        {
            float expected = (float)Math.Exp(x);
            if (expected < 1.1754944e-38f)
            {
                return; // the subnormal results just above Lowest: checked by absolute error below.
            }

            long ulps = Ulps(VectorExp.Exp(x), expected);
            if (ulps > worst)
            {
                worst = ulps;
                worstAt = x;
            }
        }
    }

    [Fact]
    public void Special_values_are_exact()
    {
        VectorExp.Exp(0f).Should().Be(1f);
        VectorExp.Exp(-0f).Should().Be(1f);
        VectorExp.Exp(float.NegativeInfinity).Should().Be(0f);
        VectorExp.Exp(-1e30f).Should().Be(0f);
        VectorExp.Exp(VectorExp.Lowest - 0.01f).Should().Be(0f);
        VectorExp.Exp(VectorExp.Lowest).Should().BeInRange(0f, 2e-38f);
        VectorExp.Exp(1f).Should().BeApproximately(MathF.E, 2e-7f);
        VectorExp.Exp(-1f).Should().BeApproximately(1 / MathF.E, 1e-7f);

        Vector128.EqualsAll(VectorExp.Exp<VectorWidth128, Vector128<float>>(Vector128.Create(float.NegativeInfinity)), Vector128<float>.Zero).Should().BeTrue();
        Vector256.EqualsAll(VectorExp.Exp<VectorWidth256, Vector256<float>>(Vector256.Create(float.NegativeInfinity)), Vector256<float>.Zero).Should().BeTrue();
        Vector512.EqualsAll(VectorExp.Exp<VectorWidth512, Vector512<float>>(Vector512.Create(float.NegativeInfinity)), Vector512<float>.Zero).Should().BeTrue();
        Vector128.EqualsAll(VectorExp.Exp<VectorWidth128, Vector128<float>>(Vector128<float>.Zero), Vector128<float>.One).Should().BeTrue();
        Vector256.EqualsAll(VectorExp.Exp<VectorWidth256, Vector256<float>>(Vector256<float>.Zero), Vector256<float>.One).Should().BeTrue();
        Vector512.EqualsAll(VectorExp.Exp<VectorWidth512, Vector512<float>>(Vector512<float>.Zero), Vector512<float>.One).Should().BeTrue();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1023)]
    [InlineData(1024)]
    [InlineData(1025)]
    [InlineData(4097)]
    [InlineData(32000)]
    public void Vector_lanes_and_scalar_tail_give_the_same_bits_and_the_sum_matches_a_float64_reference(int length)
    {
        var random = new Random(length);
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = i % 13 == 5 ? float.NegativeInfinity : (float)(random.NextDouble() * -100);
        }

        x[random.Next(length)] = 0;
        var stored = new float[length];
        double sum = VectorExp.ExpShiftedSum(x, 0f, stored);
        double sumOnly = VectorExp.ExpShiftedSum(x, 0f);
        double reference = 0;
        for (int i = 0; i < length; i++)
        {
            stored[i].Should().Be(VectorExp.Exp(x[i]), $"token {i} (x = {x[i]:R})");
            reference += Math.Exp(x[i]);
        }

        sumOnly.Should().Be(sum);
        sum.Should().BeApproximately(reference, 1e-6 * reference);
    }

    [Fact]
    public void In_place_shifted_exp_matches_the_out_of_place_result()
    {
        var random = new Random(3);
        var x = new float[1000];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(random.NextDouble() * 50);
        }

        var copy = (float[])x.Clone();
        var expected = new float[x.Length];
        double sum = VectorExp.ExpShiftedSum(x, 50f, expected);
        VectorExp.ExpShiftedSum(copy, 50f, copy).Should().Be(sum);
        copy.Should().Equal(expected);
    }
}

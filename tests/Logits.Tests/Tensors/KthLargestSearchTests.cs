using System;
using System.Linq;
using Logits.Tensors.Cpu;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The short-row k-th largest search (secant probes, a gathered finish) returns what a plain bisection over the float
/// keys returns, bit for bit, on every k of random rows with ties, −∞, signed zeros and extremes.
/// </summary>
public sealed class KthLargestSearchTests
{
    /// <summary>The reference: the largest key t with #{x ≥ t} ≥ k, by bisection over every float key.</summary>
    private static float Bisection(float[] x, int k)
    {
        int lowKey = Key(float.NegativeInfinity);
        int highKey = Key(x.Max());
        while (lowKey < highKey)
        {
            int middle = (int)(lowKey + (((long)highKey - lowKey + 1) / 2));
            float t = FromKey(middle);
            if (x.Count(v => v >= t) >= k)
            {
                lowKey = middle;
            }
            else
            {
                highKey = middle - 1;
            }
        }

        return FromKey(lowKey);
    }

    private static int Key(float value)
    {
        int bits = BitConverter.SingleToInt32Bits(value);
        return bits >= 0 ? bits : bits ^ int.MaxValue;
    }

    private static float FromKey(int key) => BitConverter.Int32BitsToSingle(key >= 0 ? key : key ^ int.MaxValue);

    [Fact]
    public void Every_k_of_random_rows_matches_the_key_bisection()
    {
        var rng = new Random(20261208);
        var specials = new[] { 0f, -0f, float.NegativeInfinity, float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e30f, -1e30f };
        int compared = 0;
        for (int c = 0; c < 300; c++)
        {
            int length = c < 40 ? 1 + c : rng.Next(1, OrderStatistics.BisectionLimit + 1);
            int style = rng.Next(6);
            var x = new float[length];
            for (int i = 0; i < length; i++)
            {
                x[i] = style switch
                {
                    0 => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())),
                    1 => rng.Next(3),
                    2 => rng.NextDouble() < 0.5 ? float.NegativeInfinity : (float)rng.NextDouble(),
                    3 => specials[rng.Next(specials.Length)],
                    4 => (float)((rng.NextDouble() * 2e30) - 1e30),
                    _ => i < length / 4 ? 5f + i : (float)(rng.NextDouble() - 8),
                };
            }

            float max = x.Max();
            var ks = length <= 64 ? Enumerable.Range(1, length) : new[] { 1, 2, 40, 50, length / 2, length - 1, length, rng.Next(1, length + 1) }.Distinct();
            foreach (int k in ks)
            {
                float expected = Bisection(x, k);
                float actual = OrderStatistics.KthLargestByBisection(x, k, max);
                Assert.True(
                    BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                    $"case {c} (length {length}, style {style}), k = {k}: {actual}, expected {expected}");
                compared++;
            }
        }

        Assert.True(compared > 1500, $"only {compared} comparisons");
    }
}

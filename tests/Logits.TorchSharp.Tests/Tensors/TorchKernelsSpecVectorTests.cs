using System;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>The test vectors of spec/sampling.md on the torch kernels.</summary>
public sealed class TorchKernelsSpecVectorTests
{
    private const float NegInf = float.NegativeInfinity;

    /// <summary>Base row B of spec/sampling.md §7.</summary>
    private static readonly float[] B = { 3, 2, 1, 0.5f, 0, -1, NegInf };

    [Theory]
    [InlineData(new[] { 88.8f, 87.8f }, new[] { 0.731059, 0.268941 })]
    [InlineData(new[] { 1000f, 999f, float.NegativeInfinity }, new[] { 0.731059, 0.268941, 0 })]
    public void Softmax_is_stable(float[] logits, double[] expected)
    {
        using var x = TorchLogitBatch.FromArray(logits, 1, logits.Length);
        x.Kernels.Softmax(x, x);
        var p = x.ToArray();
        for (int i = 0; i < p.Length; i++)
        {
            p[i].Should().BeApproximately((float)expected[i], 1e-6f);
        }

        p.Should().NotContain(float.NaN);
    }

    [Fact]
    public void LogSoftmax_keeps_negative_infinity_and_stays_finite_elsewhere()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 1000f, 999f, NegInf }, 1, 3);
        x.Kernels.LogSoftmax(x, x);
        var l = x.ToArray();
        l[0].Should().BeApproximately((float)Math.Log(0.731059), 1e-5f);
        l[1].Should().BeApproximately((float)Math.Log(0.268941), 1e-5f);
        l[2].Should().Be(NegInf);
    }

    [Fact]
    public void LogSumExp_and_ArgMax_of_B()
    {
        using var x = TorchLogitBatch.FromArray(B, 1, B.Length);
        var lse = new float[1];
        x.Kernels.LogSumExp(x, lse);
        lse[0].Should().BeApproximately(3.502835f, 1e-5f);
        var token = new int[1];
        x.Kernels.ArgMax(x, token);
        token[0].Should().Be(0);
    }

    [Theory]
    [InlineData(0.5, new[] { 0 })]
    [InlineData(0.8, new[] { 0, 1 })]
    [InlineData(0.9, new[] { 0, 1, 2 })]
    [InlineData(0.95, new[] { 0, 1, 2, 3 })]
    [InlineData(0.0, new[] { 0 })]
    public void TopP_keeps_the_inclusive_nucleus_of_B(double p, int[] kept)
    {
        KeptByTopP(B, p).Should().Equal(kept);
    }

    [Fact]
    public void TopP_keeps_tie_groups_whole()
    {
        KeptByTopP(new[] { 1f, 1f, 0f }, 0.3).Should().Equal(0, 1);
    }

    [Fact]
    public void TopP_of_one_keeps_everything()
    {
        using var x = TorchLogitBatch.FromArray(B, 1, B.Length);
        var tau = new float[1];
        x.Kernels.TopPThreshold(x, new[] { 1.0 }, 1, tau);
        tau[0].Should().Be(NegInf);
    }

    [Fact]
    public void TopP_min_tokens_to_keep_raises_the_count()
    {
        using var x = TorchLogitBatch.FromArray(B, 1, B.Length);
        var tau = new float[1];
        x.Kernels.TopPThreshold(x, new[] { 0.5 }, 3, tau);
        tau[0].Should().Be(1f);
        x.Kernels.TopPThreshold(x, new[] { 0.5 }, 100, tau);
        tau[0].Should().Be(-1f, "min(minTokensToKeep, |F|) never reaches the -inf entry");
    }

    [Fact]
    public void TopP_uses_per_row_p()
    {
        using var x = TorchLogitBatch.FromArray(B.Concat(B).ToArray(), 2, B.Length);
        var tau = new float[2];
        x.Kernels.TopPThreshold(x, new[] { 0.5, 0.9 }, 1, tau);
        tau.Should().Equal(3f, 1f);
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.5, 0)]
    [InlineData(0.61, 1)]
    [InlineData(0.9, 2)]
    [InlineData(0.95, 3)]
    [InlineData(0.999, 5)]
    public void Multinomial_on_B_follows_the_inverse_cdf(double u, int expected)
    {
        using var x = TorchLogitBatch.FromArray(B, 1, B.Length);
        var token = new int[1];
        x.Kernels.Sample(x, new[] { u }, token);
        token[0].Should().Be(expected);
    }

    [Fact]
    public void Sample_never_returns_a_removed_token_at_the_top_of_the_cdf()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 0f, 0f, NegInf, NegInf }, 1, 4);
        var token = new int[1];
        x.Kernels.Sample(x, new[] { Math.BitDecrement(1.0) }, token);
        token[0].Should().Be(1);
    }

    [Theory]
    [InlineData(new[] { 1f, 3f, 3f, float.NegativeInfinity }, 1)]
    public void Greedy_ties_go_to_the_lowest_index(float[] logits, int expected)
    {
        using var x = TorchLogitBatch.FromArray(logits, 1, logits.Length);
        var token = new int[1];
        x.Kernels.ArgMax(x, token);
        token[0].Should().Be(expected);
    }

    [Fact]
    public void Greedy_treats_negative_and_positive_zero_as_a_tie()
    {
        using var x = TorchLogitBatch.FromArray(new[] { -0.0f, 0.0f, 0.0f, -0.0f }, 2, 2);
        var tokens = new int[2];
        x.Kernels.ArgMax(x, tokens);
        tokens.Should().Equal(0, 0);
    }

    [Fact]
    public void KthLargest_counts_duplicates_and_negative_infinity()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 2f, 5f, 5f, NegInf, 1f }, 1, 5);
        var kth = new float[1];
        foreach (var (k, expected) in new[] { (1, 5f), (2, 5f), (3, 2f), (4, 1f), (5, NegInf) })
        {
            x.Kernels.KthLargest(x, new[] { k }, kth);
            kth[0].Should().Be(expected, $"k = {k}");
        }
    }

    [Fact]
    public void ScatterAdd_accumulates_duplicates_skips_padding_and_keeps_negative_infinity_sticky()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 1f, NegInf, 0f, 2f }, 1, 4);
        x.Kernels.ScatterAdd(x, new[] { 0, 0, -1, 1, 2, 3 }, new[] { 0.5f, 0.25f, 100f, 7f, NegInf, -1f });
        x.ToArray().Should().Equal(1.75f, NegInf, NegInf, 1f);
    }

    [Fact]
    public void Gather_reads_ids_and_pads_with_zero()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        var values = new float[4];
        x.Kernels.Gather(x, new[] { 2, -1, 0, 1 }, values);
        values.Should().Equal(3f, 0f, 4f, 5f);
    }

    [Fact]
    public void Affine_skips_zero_coefficients_so_negative_infinity_never_makes_nan()
    {
        using var x = TorchLogitBatch.FromArray(new[] { NegInf, 1f }, 1, 2);
        using var y = TorchLogitBatch.FromArray(new[] { 2f, NegInf }, 1, 2);
        using var destination = x.CreateLike();
        x.Kernels.Affine(2f, x, 0f, y, 0f, null, destination);
        destination.ToArray().Should().Equal(NegInf, 2f);
        x.Kernels.Affine(0f, x, 1f, y, 0f, null, destination);
        destination.ToArray().Should().Equal(2f, NegInf);
        x.Kernels.Affine(1f, x, 1f, y, 0f, null, destination);
        destination.ToArray().Should().Equal(NegInf, NegInf);
    }

    [Fact]
    public void MaskBelow_keeps_ties_and_handles_extreme_thresholds()
    {
        using var x = TorchLogitBatch.FromArray(new[] { 1f, 2f, 2f, 3f, 1f, 2f, 2f, 3f, 1f, 2f, 2f, 3f }, 3, 4);
        using var destination = x.CreateLike();
        x.Kernels.MaskBelow(x, new[] { 2f, NegInf, float.PositiveInfinity }, destination);
        destination.ToArray().Should().Equal(NegInf, 2f, 2f, 3f, 1f, 2f, 2f, 3f, NegInf, NegInf, NegInf, NegInf);
    }

    private static int[] KeptByTopP(float[] row, double p)
    {
        using var x = TorchLogitBatch.FromArray(row, 1, row.Length);
        var tau = new float[1];
        x.Kernels.TopPThreshold(x, new[] { p }, 1, tau);
        return Enumerable.Range(0, row.Length).Where(i => row[i] >= tau[0] && !float.IsNegativeInfinity(row[i])).ToArray();
    }
}

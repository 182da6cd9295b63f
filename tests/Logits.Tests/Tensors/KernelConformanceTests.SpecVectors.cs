using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>The reference vectors that concern kernels (worked examples of docs/algorithms/truncation.md and docs/algorithms/selection.md).</summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>Base row B of the reference vectors: <c>[3, 2, 1, 0.5, 0, -1, -inf]</c>.</summary>
    private static readonly float[] BaseRow = { 3f, 2f, 1f, 0.5f, 0f, -1f, float.NegativeInfinity };

    private LogitBatch Row(params float[] values) => Create(values, 1, values.Length);

    private static void ShouldBeClose(float[] actual, params double[] expected)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNegativeInfinity(expected[i]))
            {
                actual[i].Should().Be(float.NegativeInfinity);
            }
            else
            {
                ((double)actual[i]).Should().BeApproximately(expected[i], 1e-5 * System.Math.Max(1, System.Math.Abs(expected[i])), $"index {i}");
            }
        }
    }

    [Fact]
    public void Spec_7_1_softmax_does_not_overflow_above_88_7()
    {
        using var a = Row(88.8f, 87.8f);
        a.Kernels.Softmax(a, a);
        ShouldBeClose(a.ToArray(), 0.731059, 0.268941);

        using var b = Row(1000f, 999f, float.NegativeInfinity);
        b.Kernels.Softmax(b, b);
        ShouldBeClose(b.ToArray(), 0.731059, 0.268941, 0);
    }

    [Fact]
    public void Spec_7_base_row_probabilities_lse_and_log_softmax()
    {
        using var x = Row(BaseRow);
        using var p = x.CreateLike();
        x.Kernels.Softmax(x, p);
        ShouldBeClose(p.ToArray(), 0.604813, 0.222498, 0.081853, 0.049646, 0.030112, 0.011078, 0);

        var lse = new float[1];
        x.Kernels.LogSumExp(x, lse);
        ((double)lse[0]).Should().BeApproximately(3.502835, 1e-5);

        x.Kernels.LogSoftmax(x, p);
        ShouldBeClose(p.ToArray(), -0.502835, -1.502835, -2.502835, -3.002835, -3.502835, -4.502835, double.NegativeInfinity);
    }

    [Theory]
    [InlineData(0.5, new[] { 0 })]
    [InlineData(0.8, new[] { 0, 1 })]
    [InlineData(0.9, new[] { 0, 1, 2 })]
    [InlineData(0.95, new[] { 0, 1, 2, 3 })]
    [InlineData(0.0, new[] { 0 })]
    [InlineData(1.0, new[] { 0, 1, 2, 3, 4, 5 })]
    public void Spec_7_3_top_p_kept_sets(double p, int[] kept) => KeptByTopP(BaseRow, p, 1).Should().Equal(kept);

    [Fact]
    public void Spec_7_3_top_p_keeps_tie_groups_whole_and_honours_min_tokens_to_keep()
    {
        KeptByTopP(new[] { 1f, 1f, 0f }, 0.3, 1).Should().Equal(0, 1);
        KeptByTopP(BaseRow, 0.5, 4).Should().Equal(0, 1, 2, 3);
        KeptByTopP(BaseRow, 0.5, 100).Should().Equal(0, 1, 2, 3, 4, 5);
    }

    [Fact]
    public void Spec_3a_top_p_boundary_tolerance_keeps_the_prefix_that_reaches_p()
    {
        // [0.5, 0.3, 0.1, 0.1] as float32 logits ln p, P = 0.8: the 1e-6 tolerance keeps {0, 1} (docs/algorithms/truncation.md#top-p).
        var logits = new[] { 0.5, 0.3, 0.1, 0.1 }.Select(v => (float)System.Math.Log(v)).ToArray();
        KeptByTopP(logits, 0.8, 1).Should().Equal(0, 1);
    }

    [Fact]
    public void Spec_7_3_top_k_thresholds_by_kth_largest()
    {
        using var x = Row(1f, 3f, 2f, 2f, 0f);
        var tau = new float[1];
        x.Kernels.KthLargest(x, new[] { 2 }, tau);
        tau[0].Should().Be(2f, "ties at the boundary are kept: {1, 2, 3}");

        using var b = Row(BaseRow);
        b.Kernels.KthLargest(b, new[] { 3 }, tau);
        tau[0].Should().Be(1f);
        b.Kernels.KthLargest(b, new[] { 7 }, tau);
        tau[0].Should().Be(float.NegativeInfinity, "k beyond the finite tokens keeps everything");
    }

    [Fact]
    public void Spec_7_8_greedy_ties_and_signed_zeros()
    {
        var token = new int[1];
        using var b = Row(BaseRow);
        b.Kernels.ArgMax(b, token);
        token[0].Should().Be(0);

        using var ties = Row(1f, 3f, 3f, float.NegativeInfinity);
        ties.Kernels.ArgMax(ties, token);
        token[0].Should().Be(1);

        using var zeros = Row(-0.0f, +0.0f);
        zeros.Kernels.ArgMax(zeros, token);
        token[0].Should().Be(0, "-0 = +0 and ties go to the lowest index (IndexOfMax would say 1)");
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.5, 0)]
    [InlineData(0.61, 1)]
    [InlineData(0.9, 2)]
    [InlineData(0.95, 3)]
    [InlineData(0.999, 5)]
    public void Spec_7_8_multinomial_with_given_uniforms(double u, int expected)
    {
        using var b = Row(BaseRow);
        var token = new int[1];
        b.Kernels.Sample(b, new[] { u }, token);
        token[0].Should().Be(expected);
    }

    [Fact]
    public void Sampling_never_returns_a_removed_token_even_for_u_just_below_one()
    {
        using var b = Row(float.NegativeInfinity, 0f, 0f, float.NegativeInfinity, float.NegativeInfinity);
        var token = new int[1];
        b.Kernels.Sample(b, new[] { 0.9999999999999999 }, token);
        token[0].Should().Be(2);
    }

    private int[] KeptByTopP(float[] row, double p, int minTokensToKeep)
    {
        using var x = Row(row);
        var tau = new float[1];
        x.Kernels.TopPThreshold(x, new[] { p }, minTokensToKeep, tau);
        x.Kernels.MaskBelow(x, tau, x);
        var values = x.ToArray();
        return Enumerable.Range(0, values.Length).Where(i => !float.IsNegativeInfinity(values[i])).ToArray();
    }
}

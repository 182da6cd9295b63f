using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>Special values, invalid arguments and mismatched batches on the torch kernels.</summary>
public sealed class TorchKernelsErrorTests
{
    private const int Rows = 4;
    private const int Vocab = 10;
    private const float NegInf = float.NegativeInfinity;

    private static TorchLogitBatch Batch(Action<float[]>? edit = null)
    {
        var data = Enumerable.Range(0, Rows * Vocab).Select(i => (float)Math.Sin(i)).ToArray();
        edit?.Invoke(data);
        return TorchLogitBatch.FromArray(data, Rows, Vocab);
    }

    /// <summary>Every kernel that must reject NaN/+inf, with the stage it reports.</summary>
    public static IEnumerable<object[]> CheckingKernels() => new[]
    {
        new object[] { "softmax", "input" },
        new object[] { "log-softmax", "input" },
        new object[] { "logsumexp", "input" },
        new object[] { "argmax", "input" },
        new object[] { "mask-below", "input" },
        new object[] { "kth-largest", "input" },
        new object[] { "top-p", "input" },
        new object[] { "sample", "input" },
        new object[] { "scale", "input" },
        new object[] { "affine", "input" },
    };

    /// <summary>Every kernel that needs a distribution, with its stage name.</summary>
    public static TheoryData<string> DistributionKernels() => new() { "softmax", "log-softmax", "logsumexp", "argmax", "top-p", "sample" };

    [Theory]
    [MemberData(nameof(CheckingKernels))]
    public void NaN_is_reported_at_its_row_and_token(string kernel, string stage)
    {
        using var x = Batch(d => { d[(2 * Vocab) + 7] = float.NaN; d[(2 * Vocab) + 5] = float.NaN; d[(3 * Vocab) + 1] = float.NaN; });
        var error = Assert.Throws<InvalidLogitsException>(() => Run(kernel, x));
        error.Row.Should().Be(2);
        error.TokenIndex.Should().Be(5);
        float.IsNaN(error.Value).Should().BeTrue();
        error.Stage.Should().Be(stage);
    }

    [Theory]
    [MemberData(nameof(CheckingKernels))]
    public void Positive_infinity_is_reported_at_its_row_and_token(string kernel, string stage)
    {
        using var x = Batch(d => d[Vocab + 3] = float.PositiveInfinity);
        var error = Assert.Throws<InvalidLogitsException>(() => Run(kernel, x));
        (error.Row, error.TokenIndex, error.Value, error.Stage).Should().Be((1, 3, float.PositiveInfinity, stage));
    }

    [Theory]
    [MemberData(nameof(DistributionKernels))]
    public void All_negative_infinity_row_has_no_viable_token(string kernel)
    {
        using var x = Batch(d => Array.Fill(d, NegInf, Vocab, Vocab));
        var error = Assert.Throws<NoViableTokenException>(() => Run(kernel, x));
        error.Row.Should().Be(1);
        error.Stage.Should().Be(kernel);
    }

    [Fact]
    public void Scale_overflow_is_reported_with_its_stage_and_leaves_the_destination_unchanged()
    {
        using var x = Batch(d => d[(2 * Vocab) + 4] = 3e38f);
        var before = x.ToArray();
        var error = Assert.Throws<InvalidLogitsException>(() => x.Kernels.Scale(x, 10f, x));
        (error.Row, error.TokenIndex, error.Stage).Should().Be((2, 4, "scale"));
        x.ToArray().Should().Equal(before);
    }

    [Fact]
    public void Affine_negative_infinity_with_a_negative_coefficient_is_invalid()
    {
        using var x = Batch();
        using var y = Batch(d => d[(3 * Vocab) + 6] = NegInf);
        var error = Assert.Throws<InvalidLogitsException>(() => x.Kernels.Affine(1f, x, -1f, y, 0f, null, x));
        (error.Row, error.TokenIndex, error.Value, error.Stage).Should().Be((3, 6, float.PositiveInfinity, "affine"));
    }

    [Fact]
    public void ScatterAdd_overflow_reports_the_lowest_touched_entry()
    {
        using var x = Batch(d => { d[(2 * Vocab) + 5] = 3e38f; d[(2 * Vocab) + 8] = 3e38f; });
        var ids = new[] { 0, 0, 0, 0, 0, 0, 8, 5, 0, 0, 0, 0 };
        var values = new[] { 0f, 0f, 0f, 0f, 0f, 0f, 3e38f, 3e38f, 0f, 0f, 0f, 0f };
        var error = Assert.Throws<InvalidLogitsException>(() => x.Kernels.ScatterAdd(x, ids, values));
        (error.Row, error.TokenIndex, error.Stage).Should().Be((2, 5, "scatter-add"));
    }

    [Fact]
    public void ScatterAdd_reports_a_touched_NaN()
    {
        using var x = Batch(d => d[(2 * Vocab) + 5] = float.NaN);
        var error = Assert.Throws<InvalidLogitsException>(() => x.Kernels.ScatterAdd(x, new[] { -1, -1, 5, -1 }, new[] { 0f, 0f, 1f, 0f }));
        (error.Row, error.TokenIndex).Should().Be((2, 5));
    }

    public static IEnumerable<object[]> InvalidArguments()
    {
        var cases = new List<(string Param, Action<TorchLogitBatch> Act)>();
        foreach (float factor in new[] { 0f, -1f, float.NaN, float.PositiveInfinity })
        {
            cases.Add(("factor", x => x.Kernels.Scale(x, factor, x)));
        }

        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            cases.Add(("a", x => x.Kernels.Affine(bad, x, 0, null, 0, null, x)));
            cases.Add(("b", x => x.Kernels.Affine(1, x, bad, x, 0, null, x)));
            cases.Add(("c", x => x.Kernels.Affine(1, x, 0, null, bad, x, x)));
        }

        cases.Add(("thresholds", x => x.Kernels.MaskBelow(x, new[] { 0f, float.NaN, 0f, 0f }, x)));
        cases.Add(("k", x => x.Kernels.KthLargest(x, new[] { 1, 0, 1, 1 }, new float[Rows])));
        cases.Add(("k", x => x.Kernels.KthLargest(x, new[] { 1, Vocab + 1, 1, 1 }, new float[Rows])));
        foreach (double p in new[] { -0.1, 1.1, double.NaN })
        {
            cases.Add(("p", x => x.Kernels.TopPThreshold(x, new[] { 0.5, 0.5, p, 0.5 }, 1, new float[Rows])));
        }

        cases.Add(("minTokensToKeep", x => x.Kernels.TopPThreshold(x, new[] { 0.5, 0.5, 0.5, 0.5 }, 0, new float[Rows])));
        foreach (double u in new[] { -0.1, 1.0, double.NaN })
        {
            cases.Add(("uniforms", x => x.Kernels.Sample(x, new[] { 0.5, u, 0.5, 0.5 }, new int[Rows])));
        }

        cases.Add(("tokenIds", x => x.Kernels.Gather(x, new[] { 0, 1, 2, 3, 4, Vocab, 0, 0 }, new float[8])));
        cases.Add(("tokenIds", x => x.Kernels.ScatterAdd(x, new[] { 0, 1, 2, 3, 4, Vocab, 0, 0 }, new float[8])));
        cases.Add(("values", x => x.Kernels.ScatterAdd(x, new[] { 0, 1, 2, 3 }, new[] { 0f, float.NaN, 0f, 0f })));
        cases.Add(("values", x => x.Kernels.ScatterAdd(x, new[] { 0, 1, 2, 3 }, new[] { 0f, 0f, float.PositiveInfinity, 0f })));
        return cases.Select(c => new object[] { c.Param, c.Act });
    }

    [Theory]
    [MemberData(nameof(InvalidArguments))]
    public void Invalid_argument_names_its_parameter(string paramName, Action<TorchLogitBatch> act)
    {
        using var x = Batch();
        var before = x.ToArray();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => act(x));
        error.ParamName.Should().Be(paramName);
        x.ToArray().Should().Equal(before, "a rejected call changes nothing");
    }

    [Fact]
    public void Out_of_range_token_id_message_names_row_and_position()
    {
        using var x = Batch();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => x.Kernels.Gather(x, new[] { 0, 1, 2, 3, 4, Vocab, 0, 0 }, new float[8]));
        error.Message.Should().Contain("row 2").And.Contain("position 1");
    }

    [Fact]
    public void Null_batch_with_a_nonzero_coefficient_throws_ArgumentNullException()
    {
        using var x = Batch();
        Assert.Throws<ArgumentNullException>(() => x.Kernels.Affine(1, x, 2, null, 0, null, x)).ParamName.Should().Be("y");
        Assert.Throws<ArgumentNullException>(() => x.Kernels.Affine(1, x, 0, null, 2, null, x)).ParamName.Should().Be("z");
    }

    [Fact]
    public void Mismatched_batches_and_spans_throw_ArgumentException_naming_the_parameter()
    {
        using var x = Batch();
        using var other = new TorchLogitBatch(Rows, Vocab + 1);
        var cpu = new CpuLogitBatch(Rows, Vocab);
        var k = x.Kernels;
        Expect("destination", () => k.Softmax(x, other));
        Expect("destination", () => k.LogSoftmax(x, cpu));
        Expect("x", () => k.Softmax(cpu, x));
        Expect("y", () => k.Affine(1, x, 1, other, 0, null, x));
        Expect("z", () => k.Affine(1, x, 0, null, 1, cpu, x));
        Expect("destination", () => k.LogSumExp(x, new float[Rows + 1]));
        Expect("destination", () => k.ArgMax(x, new int[Rows - 1]));
        Expect("thresholds", () => k.MaskBelow(x, new float[Rows - 1], x));
        Expect("k", () => k.KthLargest(x, new int[Rows + 1], new float[Rows]));
        Expect("p", () => k.TopPThreshold(x, new double[Rows - 1], 1, new float[Rows]));
        Expect("uniforms", () => k.Sample(x, new double[Rows + 1], new int[Rows]));
        Expect("tokenIds", () => k.Gather(x, new int[Rows + 1], new float[Rows + 1]));
        Expect("destination", () => k.Gather(x, new int[Rows], new float[Rows + 1]));
        Expect("values", () => k.ScatterAdd(x, new int[Rows], new float[Rows - 1]));
        Expect("destination", () => k.ScatterAdd(cpu, new int[Rows], new float[Rows]));
    }

    private static void Expect(string paramName, Action act)
    {
        var error = Assert.ThrowsAny<ArgumentException>(act);
        error.Should().NotBeOfType<ArgumentOutOfRangeException>();
        error.ParamName.Should().Be(paramName);
    }

    private static void Run(string kernel, TorchLogitBatch x)
    {
        var k = x.Kernels;
        using var destination = x.CreateLike();
        var ones = Enumerable.Repeat(1, Rows).ToArray();
        switch (kernel)
        {
            case "softmax": k.Softmax(x, destination); break;
            case "log-softmax": k.LogSoftmax(x, destination); break;
            case "logsumexp": k.LogSumExp(x, new float[Rows]); break;
            case "argmax": k.ArgMax(x, new int[Rows]); break;
            case "mask-below": k.MaskBelow(x, new float[Rows], destination); break;
            case "kth-largest": k.KthLargest(x, ones, new float[Rows]); break;
            case "top-p": k.TopPThreshold(x, Enumerable.Repeat(0.9, Rows).ToArray(), 1, new float[Rows]); break;
            case "sample": k.Sample(x, Enumerable.Repeat(0.5, Rows).ToArray(), new int[Rows]); break;
            case "scale": k.Scale(x, 0.5f, destination); break;
            case "affine": k.Affine(1f, x, 0.5f, x, 0f, null, destination); break;
            default: throw new ArgumentOutOfRangeException(nameof(kernel), kernel, null);
        }
    }
}

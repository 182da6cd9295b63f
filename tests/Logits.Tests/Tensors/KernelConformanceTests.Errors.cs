using System;
using FluentAssertions;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>Invalid logits, empty rows and invalid arguments: the exceptions every backend must raise.</summary>
public abstract partial class KernelConformanceTests
{
    private const float NegInf = float.NegativeInfinity;

    /// <summary>Shapes for error tests: a small batch and one large enough for the parallel CPU path.</summary>
    public static TheoryData<int, int> ErrorShapes() => new() { { 4, 9 }, { 64, 4097 } };

    /// <summary>Every kernel, invoked on <paramref name="x"/> with valid arguments.</summary>
    private static void RunKernel(string kernel, LogitBatch x)
    {
        var k = x.Kernels;
        int rows = x.Rows;
        switch (kernel)
        {
            case "softmax": using (var d = x.CreateLike()) { k.Softmax(x, d); } break;
            case "log-softmax": using (var d = x.CreateLike()) { k.LogSoftmax(x, d); } break;
            case "logsumexp": k.LogSumExp(x, new float[rows]); break;
            case "scale": using (var d = x.CreateLike()) { k.Scale(x, 2f, d); } break;
            case "affine": using (var d = x.CreateLike()) { k.Affine(1f, x, 0f, null, 0f, null, d); } break;
            case "argmax": k.ArgMax(x, new int[rows]); break;
            case "mask-below": using (var d = x.CreateLike()) { k.MaskBelow(x, new float[rows], d); } break;
            case "kth-largest": k.KthLargest(x, Filled(rows, 2), new float[rows]); break;
            case "top-p": k.TopPThreshold(x, Filled(rows, 0.9), 1, new float[rows]); break;
            case "sample": k.Sample(x, Filled(rows, 0.5), new int[rows]); break;
            case "row-max": k.RowMax(x, new float[rows]); break;
            case "row-statistics": k.RowStatistics(x, RowStatisticKinds.All, new LogitRowStatistics[rows]); break;
            case "mask-outside": using (var d = x.CreateLike()) { k.MaskOutside(x, Filled(rows, -1f), Filled(rows, 1f), d); } break;
            case "largest-values": k.LargestValues(x, 2, new float[rows * 2]); break;
            case "typical": k.TypicalBand(x, Filled(rows, 0.9), 1, false, new float[rows], new float[rows]); break;
            default: throw new ArgumentOutOfRangeException(nameof(kernel), kernel, null);
        }
    }

    private static T[] Filled<T>(int length, T value)
    {
        var array = new T[length];
        Array.Fill(array, value);
        return array;
    }

    public static TheoryData<string> AllKernels() => new()
    {
        "softmax", "log-softmax", "logsumexp", "scale", "affine", "argmax", "mask-below", "kth-largest", "top-p", "sample",
        "row-max", "row-statistics", "mask-outside", "largest-values", "typical",
    };

    public static TheoryData<string> DistributionKernels() => new()
    {
        "softmax", "log-softmax", "logsumexp", "argmax", "top-p", "sample", "typical",
    };

    [Theory]
    [MemberData(nameof(AllKernels))]
    public void NaN_and_positive_infinity_are_reported_with_row_and_token(string kernel)
    {
        foreach (var (rows, vocab) in new[] { (4, 9), (64, 4097) })
        {
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
            {
                var data = new float[rows * vocab];
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = (i % 7) - 3;
                }

                // Two bad entries: the lower row must be reported, whatever runs first.
                data[(2 * vocab) + 5] = bad;
                data[(3 * vocab) + 1] = bad;
                using var x = Create(data, rows, vocab);
                var error = FluentActions.Invoking(() => RunKernel(kernel, x)).Should().Throw<InvalidLogitsException>().Which;
                error.Row.Should().Be(2, kernel);
                error.TokenIndex.Should().Be(5, kernel);
                error.Stage.Should().Be("input");
                if (float.IsNaN(bad))
                {
                    float.IsNaN(error.Value).Should().BeTrue();
                }
                else
                {
                    error.Value.Should().Be(bad);
                }

                error.Message.Should().Contain("Row 2");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllKernels))]
    public void The_lowest_failing_row_is_reported_on_every_run_of_a_large_batch(string kernel)
    {
        // Stress for the lowest-row rule on the parallel CPU path (a failure in a later row once hid the
        // one in an earlier row that had not started yet; RowRunnerTests pins the mechanism directly).
        const int rows = 64;
        const int vocab = 32000;
        var data = new float[rows * vocab];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (i % 11) - 5;
        }

        data[(30 * vocab) + vocab - 1] = float.NaN;
        for (int r = 33; r < rows; r++)
        {
            data[r * vocab] = float.NaN;
        }

        using var x = Create(data, rows, vocab);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var error = FluentActions.Invoking(() => RunKernel(kernel, x)).Should().Throw<InvalidLogitsException>().Which;
            (error.Row, error.TokenIndex).Should().Be((30, vocab - 1), $"{kernel}, attempt {attempt}");
        }
    }

    [Theory]
    [MemberData(nameof(DistributionKernels))]
    public void An_all_negative_infinity_row_is_reported_not_turned_into_token_zero(string kernel)
    {
        foreach (var (rows, vocab) in new[] { (4, 9), (64, 4097) })
        {
            var data = new float[rows * vocab];
            Array.Fill(data, 1f);
            Array.Fill(data, NegInf, 3 * vocab, vocab);
            using var x = Create(data, rows, vocab);
            var error = FluentActions.Invoking(() => RunKernel(kernel, x)).Should().Throw<NoViableTokenException>().Which;
            error.Row.Should().Be(3, kernel);
            error.Stage.Should().Be(kernel);
        }
    }

    [Fact]
    public void Element_wise_kernels_pass_an_all_negative_infinity_row_through()
    {
        var data = new[] { NegInf, NegInf, NegInf, 1f, 2f, 3f };
        using var x = Create(data, 2, 3);
        using var d = x.CreateLike();
        x.Kernels.Scale(x, 2f, d);
        d.ToArray().Should().Equal(NegInf, NegInf, NegInf, 2f, 4f, 6f);
        x.Kernels.MaskBelow(x, new[] { 0f, 2f }, d);
        d.ToArray().Should().Equal(NegInf, NegInf, NegInf, NegInf, 2f, 3f);
        var kth = new float[2];
        x.Kernels.KthLargest(x, new[] { 1, 3 }, kth);
        kth.Should().Equal(NegInf, 1f);
    }

    [Fact]
    public void Scale_overflow_is_reported_as_its_own_stage()
    {
        using var x = Create(new[] { 1f, 3e38f, 2f }, 1, 3);
        var error = FluentActions.Invoking(() => x.Kernels.Scale(x, 10f, x)).Should().Throw<InvalidLogitsException>().Which;
        error.Stage.Should().Be("scale");
        error.TokenIndex.Should().Be(1);
        error.Value.Should().Be(float.PositiveInfinity);
    }

    [Fact]
    public void Affine_infinity_minus_infinity_is_reported_and_zero_coefficients_skip_their_term()
    {
        using var x = Create(new[] { 1f, NegInf, 2f }, 1, 3);
        using var y = Create(new[] { 0f, NegInf, 1f }, 1, 3);
        using var d = x.CreateLike();
        var error = FluentActions.Invoking(() => x.Kernels.Affine(2f, x, -1f, y, 0f, null, d)).Should().Throw<InvalidLogitsException>().Which;
        error.Stage.Should().Be("affine");
        error.TokenIndex.Should().Be(1);

        // A -inf with a positive coefficient stays -inf; a zero coefficient never makes 0 * -inf = NaN.
        x.Kernels.Affine(2f, x, 0f, y, 0.5f, y, d);
        d.ToArray().Should().Equal(2f, NegInf, 4.5f);
        x.Kernels.Affine(0f, x, 1f, y, 0f, null, d);
        d.ToArray().Should().Equal(0f, NegInf, 1f);
    }

    [Fact]
    public void ScatterAdd_keeps_negative_infinity_sticky_and_bans_with_negative_infinity()
    {
        using var x = Create(new[] { 1f, NegInf, 2f, 5f }, 1, 4);
        x.Kernels.ScatterAdd(x, new[] { 1, 2, 0, 0, -1 }, new[] { 100f, NegInf, 0.5f, 0.25f, 7f });
        x.ToArray().Should().Equal(1.75f, NegInf, NegInf, 5f);
    }

    [Fact]
    public void Scatter_can_revive_a_removed_token_and_the_last_repeated_value_wins()
    {
        using var x = Create(new[] { 1f, NegInf, 2f, 5f }, 1, 4);
        x.Kernels.Scatter(x, new[] { 1, 3, 3, -1 }, new[] { 0f, 7f, NegInf, float.NaN });
        x.ToArray().Should().Equal(1f, 0f, 2f, NegInf);
    }

    [Fact]
    public void Invalid_arguments_name_the_parameter()
    {
        using var x = Create(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        var k = x.Kernels;
        ParamNameOf(() => k.Scale(x, 0f, x)).Should().Be("factor");
        ParamNameOf(() => k.Scale(x, -1f, x)).Should().Be("factor");
        ParamNameOf(() => k.Scale(x, float.NaN, x)).Should().Be("factor");
        ParamNameOf(() => k.Scale(x, float.PositiveInfinity, x)).Should().Be("factor");
        ParamNameOf(() => k.Scale(x, new[] { 1f, 0f }, x)).Should().Be("factors");
        ParamNameOf(() => k.Scale(x, new[] { float.NaN, 1f }, x)).Should().Be("factors");
        ParamNameOf(() => k.Affine(float.NaN, x, 0f, null, 0f, null, x)).Should().Be("a");
        ParamNameOf(() => k.Affine(1f, x, float.PositiveInfinity, x, 0f, null, x)).Should().Be("b");
        ParamNameOf(() => k.Affine(1f, x, 0f, null, float.NegativeInfinity, x, x)).Should().Be("c");
        ParamNameOf(() => k.MaskBelow(x, new[] { 0f, float.NaN }, x)).Should().Be("thresholds");
        ParamNameOf(() => k.KthLargest(x, new[] { 0, 1 }, new float[2])).Should().Be("k");
        ParamNameOf(() => k.KthLargest(x, new[] { 1, 4 }, new float[2])).Should().Be("k");
        ParamNameOf(() => k.TopPThreshold(x, new[] { 0.5, 1.5 }, 1, new float[2])).Should().Be("p");
        ParamNameOf(() => k.TopPThreshold(x, new[] { -0.1, 0.5 }, 1, new float[2])).Should().Be("p");
        ParamNameOf(() => k.TopPThreshold(x, new[] { double.NaN, 0.5 }, 1, new float[2])).Should().Be("p");
        ParamNameOf(() => k.TopPThreshold(x, new[] { 0.5, 0.5 }, 0, new float[2])).Should().Be("minTokensToKeep");
        ParamNameOf(() => k.Sample(x, new[] { 0.5, 1.0 }, new int[2])).Should().Be("uniforms");
        ParamNameOf(() => k.Sample(x, new[] { -0.5, 0.5 }, new int[2])).Should().Be("uniforms");
        ParamNameOf(() => k.Gather(x, new[] { 0, 3 }, new float[2])).Should().Be("tokenIds");
        ParamNameOf(() => k.ScatterAdd(x, new[] { 0, 3 }, new[] { 1f, 1f })).Should().Be("tokenIds");
        ParamNameOf(() => k.ScatterAdd(x, new[] { 0, 1 }, new[] { 1f, float.NaN })).Should().Be("values");
        ParamNameOf(() => k.ScatterAdd(x, new[] { 0, 1 }, new[] { float.PositiveInfinity, 1f })).Should().Be("values");
        ParamNameOf(() => k.Scatter(x, new[] { 0, 3 }, new[] { 1f, 1f })).Should().Be("tokenIds");
        ParamNameOf(() => k.Scatter(x, new[] { 0, 1 }, new[] { 1f, float.NaN })).Should().Be("values");
    }

    [Fact]
    public void Shape_and_length_mismatches_are_argument_errors()
    {
        using var x = Create(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        using var other = Create(new[] { 1f, 2f, 3f }, 1, 3);
        var k = x.Kernels;
        ArgumentErrorOf(() => k.Softmax(x, other)).Should().Be("destination");
        ArgumentErrorOf(() => k.Affine(1f, x, 1f, other, 0f, null, x)).Should().Be("y");
        ArgumentErrorOf(() => k.LogSumExp(x, new float[3])).Should().Be("destination");
        ArgumentErrorOf(() => k.ArgMax(x, new int[1])).Should().Be("destination");
        ArgumentErrorOf(() => k.MaskBelow(x, new float[1], x)).Should().Be("thresholds");
        ArgumentErrorOf(() => k.Sample(x, new double[3], new int[2])).Should().Be("uniforms");
        ArgumentErrorOf(() => k.Gather(x, new int[3], new float[3])).Should().Be("tokenIds");
        ArgumentErrorOf(() => k.ScatterAdd(x, new int[2], new float[4])).Should().Be("values");
        FluentActions.Invoking(() => k.Affine(1f, x, 1f, null, 0f, null, x)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Batches_of_another_backend_are_rejected()
    {
        using var x = Create(new[] { 1f, 2f, 3f }, 1, 3);
        using var foreign = new ForeignBatch();
        ArgumentErrorOf(() => x.Kernels.Softmax(x, foreign)).Should().Be("destination");
        ArgumentErrorOf(() => x.Kernels.Softmax(foreign, x)).Should().Be("x");
    }

    private static string? ParamNameOf(Action action) =>
        FluentActions.Invoking(action).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName;

    private static string? ArgumentErrorOf(Action action) =>
        FluentActions.Invoking(action).Should().Throw<ArgumentException>().Which.ParamName;

    /// <summary>A batch of no real backend, to check that kernels refuse batches they do not own.</summary>
    private sealed class ForeignBatch : LogitBatch
    {
        public ForeignBatch()
            : base(1, 3)
        {
        }

        public override ILogitKernels Kernels => throw new NotSupportedException("A foreign batch has no kernels.");

        public override LogitBatch CreateLike() => new ForeignBatch();

        public override void CopyFrom(ReadOnlySpan<float> source) => throw new NotSupportedException();

        public override void CopyTo(Span<float> destination) => throw new NotSupportedException();

        public override void CopyRowTo(int row, Span<float> destination) => throw new NotSupportedException();
    }
}

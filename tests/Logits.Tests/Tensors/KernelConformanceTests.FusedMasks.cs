using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The fused truncation masks (<see cref="ILogitKernels.MaskBelowKthLargest"/>, <see cref="ILogitKernels.MaskBelowTopP"/>):
/// the reference threshold followed by the reference mask, in place and out of place, with an all-<c>-∞</c> row kept.
/// </summary>
public abstract partial class KernelConformanceTests
{
    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskBelowKthLargest_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 21);
            if (rows > 2)
            {
                // An all -inf row stays so.
                Array.Fill(data, float.NegativeInfinity, vocab, vocab);
            }

            var k = Enumerable.Range(0, rows).Select(r => Math.Clamp(new[] { 1, 2, 40, vocab / 2, vocab, 1000 }[r % 6], 1, vocab)).ToArray();
            foreach (bool inPlace in new[] { true, false })
            {
                using var x = Create(data, rows, vocab);
                using var destination = inPlace ? null : x.CreateLike();
                x.Kernels.MaskBelowKthLargest(x, k, destination ?? x);
                var actual = (destination ?? x).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    var row = LogitData.Row(data, vocab, r);
                    var expected = ReferenceKernels.MaskBelow(row, ReferenceKernels.KthLargest(row, k[r]));
                    LogitData.Row(actual, vocab, r).Should().Equal(expected, $"row {r}, k {k[r]}, in place {inPlace}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskBelowTopP_matches_reference(int vocab)
    {
        double[] ps = { 0.0, 0.5, 0.9, 0.95, 0.999, 1.0, 0.3 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 22);
            int emptyRow = rows > 2 ? 1 : -1;
            if (emptyRow >= 0)
            {
                Array.Fill(data, float.NegativeInfinity, emptyRow * vocab, vocab);
            }

            var p = Enumerable.Range(0, rows).Select(r => ps[r % ps.Length]).ToArray();
            foreach (int minKeep in new[] { 1, 3 })
            {
                foreach (bool inPlace in new[] { true, false })
                {
                    using var x = Create(data, rows, vocab);
                    using var destination = inPlace ? null : x.CreateLike();
                    x.Kernels.MaskBelowTopP(x, p, minKeep, destination ?? x);
                    var actual = (destination ?? x).ToArray();
                    for (int r = 0; r < rows; r++)
                    {
                        var row = LogitData.Row(data, vocab, r);
                        if (r == emptyRow)
                        {
                            LogitData.Row(actual, vocab, r).Should().OnlyContain(v => float.IsNegativeInfinity(v), "an all -inf row stays so");
                            continue;
                        }

                        var (threshold, margin) = ReferenceKernels.TopPThreshold(row, r, p[r], minKeep);
                        if (margin > 1e-5)
                        {
                            LogitData.Row(actual, vocab, r).Should().Equal(ReferenceKernels.MaskBelow(row, threshold), $"row {r}, p {p[r]}, minKeep {minKeep}, in place {inPlace}");
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("kth")]
    [InlineData("top-p")]
    public void Fused_masks_reject_invalid_entries_and_arguments(string kernel)
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 23);
        data[vocab + 4] = float.NaN;
        data[(2 * vocab) + 2] = float.PositiveInfinity;
        using var x = Create(data, rows, vocab);
        var original = x.ToArray();
        Action run = kernel == "kth"
            ? () => x.Kernels.MaskBelowKthLargest(x, new[] { 2, 2, 2 }, x)
            : () => x.Kernels.MaskBelowTopP(x, new[] { 0.5, 0.5, 0.5 }, 1, x);
        var error = run.Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 4, "input"));
        x.ToArray().Should().Equal(original, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 24), rows, vocab);
        if (kernel == "kth")
        {
            FluentActions.Invoking(() => valid.Kernels.MaskBelowKthLargest(valid, new[] { 1, 0, 1 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
            FluentActions.Invoking(() => valid.Kernels.MaskBelowKthLargest(valid, new[] { 1, vocab + 1, 1 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
            FluentActions.Invoking(() => valid.Kernels.MaskBelowKthLargest(valid, new[] { 1, 1 }, valid)).Should().Throw<ArgumentException>().WithParameterName("k");
        }
        else
        {
            FluentActions.Invoking(() => valid.Kernels.MaskBelowTopP(valid, new[] { 0.5, 1.5, 0.5 }, 1, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("p");
            FluentActions.Invoking(() => valid.Kernels.MaskBelowTopP(valid, new[] { 0.5, double.NaN, 0.5 }, 1, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("p");
            FluentActions.Invoking(() => valid.Kernels.MaskBelowTopP(valid, new[] { 0.5, 0.5, 0.5 }, 0, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minTokensToKeep");
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskBelowMaxPlus_matches_reference(int vocab)
    {
        double[] offsets = { Math.Log(0.05), 0.0, double.NegativeInfinity, Math.Log(0.5), -1e-12, Math.Log(1e-4) };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 25);
            int emptyRow = rows > 2 ? 2 : -1;
            if (emptyRow >= 0)
            {
                Array.Fill(data, float.NegativeInfinity, emptyRow * vocab, vocab);
            }

            var offset = Enumerable.Range(0, rows).Select(r => offsets[r % offsets.Length]).ToArray();
            foreach (bool inPlace in new[] { true, false })
            {
                using var x = Create(data, rows, vocab);
                using var destination = inPlace ? null : x.CreateLike();
                x.Kernels.MaskBelowMaxPlus(x, offset, destination ?? x);
                var actual = (destination ?? x).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    var row = LogitData.Row(data, vocab, r);

                    // The reference: the float64 threshold m + offset, rounded to float32 once; -inf + anything stays -inf.
                    float threshold = (float)(ReferenceKernels.CheckedMax(row, r) + offset[r]);
                    var expected = ReferenceKernels.MaskBelow(row, threshold);
                    LogitData.Row(actual, vocab, r).Should().Equal(expected, $"row {r}, offset {offset[r]}, in place {inPlace}");
                    if (r != emptyRow)
                    {
                        LogitData.Row(actual, vocab, r).Max().Should().Be(row.Max(), "an offset at most 0 keeps the maximum");
                    }
                }
            }
        }
    }

    [Fact]
    public void MaskBelowMaxPlus_rejects_bad_input_and_offsets()
    {
        const int rows = 3;
        const int vocab = 70;
        var data = LogitData.Random(rows, vocab, 26);
        data[vocab + 5] = float.NaN;
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.MaskBelowMaxPlus(x, new[] { -1.0, -1.0, -1.0 }, x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 5, "input"));

        using var valid = Create(LogitData.Random(rows, vocab, 27), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.MaskBelowMaxPlus(valid, new[] { -1.0, 0.5, -1.0 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("offsets");
        FluentActions.Invoking(() => valid.Kernels.MaskBelowMaxPlus(valid, new[] { -1.0, double.NaN, -1.0 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("offsets");
        FluentActions.Invoking(() => valid.Kernels.MaskBelowMaxPlus(valid, new[] { -1.0, -1.0 }, valid)).Should().Throw<ArgumentException>().WithParameterName("offsets");
    }
}

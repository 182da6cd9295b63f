using System;
using System.Linq;
using FluentAssertions;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>Every torch kernel against the double-precision <see cref="ReferenceKernels"/> over many shapes.</summary>
public sealed class TorchKernelsTests
{
    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void Softmax_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        bool inPlace = vocab % 2 == 1;
        using var destination = inPlace ? x : x.CreateLike();
        x.Kernels.Softmax(x, destination);
        var actual = destination.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var expected = ReferenceKernels.Softmax(LogitData.Row(data, vocab, r), r);
            AssertClose(actual, r, vocab, expected, _ => 0, "softmax");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void LogSoftmax_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        bool inPlace = vocab % 2 == 0;
        using var destination = inPlace ? x : x.CreateLike();
        x.Kernels.LogSoftmax(x, destination);
        var actual = destination.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var row = LogitData.Row(data, vocab, r);
            double scale = TorchTestData.FiniteScale(row);
            AssertClose(actual, r, vocab, ReferenceKernels.LogSoftmax(row, r), _ => scale, "log-softmax");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void LogSumExp_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        var actual = new float[rows];
        x.Kernels.LogSumExp(x, actual);
        for (int r = 0; r < rows; r++)
        {
            var row = LogitData.Row(data, vocab, r);
            double expected = ReferenceKernels.LogSumExp(row, r);
            Tolerance.Close(actual[r], expected, TorchTestData.FiniteScale(row))
                .Should().BeTrue($"row {r}: logsumexp {actual[r]} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void Scale_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        using var destination = x.CreateLike();
        foreach (float factor in new[] { 0.7f, 1f / 0.3f })
        {
            x.Kernels.Scale(x, factor, destination);
            var actual = destination.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var expected = ReferenceKernels.Scale(LogitData.Row(data, vocab, r), factor);
                AssertClose(actual, r, vocab, expected, _ => 0, $"scale {factor}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void Affine_matches_reference(int rows, int vocab)
    {
        // Positive coefficients: -inf entries combine to -inf and never to NaN or +inf.
        var xs = TorchTestData.Logits(rows, vocab);
        var ys = TorchTestData.Logits(rows, vocab, salt: 1);
        var zs = TorchTestData.Logits(rows, vocab, salt: 2);
        using var x = TorchLogitBatch.FromArray(xs, rows, vocab);
        using var y = TorchLogitBatch.FromArray(ys, rows, vocab);
        using var z = TorchLogitBatch.FromArray(zs, rows, vocab);
        using var destination = x.CreateLike();
        const float a = 1.5f, b = 0.5f, c = 0.25f;
        x.Kernels.Affine(a, x, b, y, c, z, destination);
        var actual = destination.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var xr = LogitData.Row(xs, vocab, r);
            var yr = LogitData.Row(ys, vocab, r);
            var zr = LogitData.Row(zs, vocab, r);
            var expected = ReferenceKernels.Affine(a, xr, b, yr, c, zr);
            AssertClose(actual, r, vocab, expected, i => Math.Max(Math.Abs(a * xr[i]), Math.Max(Math.Abs(b * yr[i]), Math.Abs(c * zr[i]))), "affine");
        }

        // Two terms, in place on y, with a negative coefficient on finite data (z skipped, null).
        var finite = xs.Select(v => float.IsNegativeInfinity(v) ? -3f : v).ToArray();
        using var f = TorchLogitBatch.FromArray(finite, rows, vocab);
        using var g = TorchLogitBatch.FromArray(finite.Select(v => v * 0.5f + 1).ToArray(), rows, vocab);
        var gBefore = g.ToArray();
        x.Kernels.Affine(2f, f, -0.75f, g, 0f, null, g);
        var inPlace = g.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var fr = LogitData.Row(finite, vocab, r);
            var gr = LogitData.Row(gBefore, vocab, r);
            var expected = ReferenceKernels.Affine(2, fr, -0.75, gr, 0, null);
            AssertClose(inPlace, r, vocab, expected, i => Math.Max(Math.Abs(2.0 * fr[i]), Math.Abs(0.75 * gr[i])), "affine in place");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void ArgMax_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        var actual = new int[rows];
        x.Kernels.ArgMax(x, actual);
        for (int r = 0; r < rows; r++)
        {
            actual[r].Should().Be(ReferenceKernels.ArgMax(LogitData.Row(data, vocab, r), r), $"row {r}");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void MaskBelow_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        using var destination = x.CreateLike();
        var thresholds = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = LogitData.Row(data, vocab, r);
            thresholds[r] = (r % 4) switch
            {
                0 => row[(r * 31) % vocab],            // a value of the row: ties at the boundary
                1 => float.NegativeInfinity,          // keeps everything
                2 => row.Max() + 1,                   // empties the row
                _ => 0.25f,
            };
        }

        x.Kernels.MaskBelow(x, thresholds, destination);
        var actual = destination.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var expected = ReferenceKernels.MaskBelow(LogitData.Row(data, vocab, r), thresholds[r]);
            LogitData.Row(actual, vocab, r).Should().Equal(expected, $"row {r}");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void KthLargest_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        var k = Enumerable.Range(0, rows).Select(r => r == rows - 1 ? vocab : ((r * 37) + 1) % vocab + 1).ToArray();
        var actual = new float[rows];
        x.Kernels.KthLargest(x, k, actual);
        for (int r = 0; r < rows; r++)
        {
            actual[r].Should().Be(ReferenceKernels.KthLargest(LogitData.Row(data, vocab, r), k[r]), $"row {r}, k {k[r]}");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void TopPThreshold_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        double[] choices = { 0, 0.3, 0.5, 0.8, 0.9, 0.95, 0.999, 1 };
        foreach (int minTokensToKeep in new[] { 1, 3 })
        {
            var p = Enumerable.Range(0, rows).Select(r => choices[(r + vocab + minTokensToKeep) % choices.Length]).ToArray();
            var actual = new float[rows];
            x.Kernels.TopPThreshold(x, p, minTokensToKeep, actual);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var (expected, margin) = ReferenceKernels.TopPThreshold(row, r, p[r], minTokensToKeep);
                if (actual[r] == expected)
                {
                    continue;
                }

                // Within rounding distance of the boundary either neighbouring cut is acceptable.
                margin.Should().BeLessThan(1e-5, $"row {r}, p {p[r]}, keep {minTokensToKeep}: {actual[r]} vs {expected}");
                var distinct = row.Where(v => !float.IsNegativeInfinity(v)).Distinct().OrderByDescending(v => v).ToList();
                int at = distinct.IndexOf(expected);
                Math.Abs(distinct.IndexOf(actual[r]) - at).Should().Be(1, $"row {r}: boundary case must be a neighbouring cut");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void Gather_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        const int perRow = 9;
        var rng = new Random(TorchTestData.Seed(rows, vocab));
        var ids = Enumerable.Range(0, rows * perRow).Select(_ => rng.Next(5) == 0 ? -1 : rng.Next(vocab)).ToArray();
        var actual = new float[ids.Length];
        x.Kernels.Gather(x, ids, actual);
        for (int i = 0; i < ids.Length; i++)
        {
            var row = LogitData.Row(data, vocab, i / perRow);
            actual[i].Should().Be(ReferenceKernels.Gather(row, ids[i]), $"row {i / perRow}, position {i % perRow}");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void ScatterAdd_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        const int perRow = 12;
        var rng = new Random(TorchTestData.Seed(rows, vocab) + 5);
        int span = Math.Min(vocab, 6); // a narrow id range makes duplicates likely
        var ids = Enumerable.Range(0, rows * perRow).Select(_ => rng.Next(6) == 0 ? -1 : rng.Next(span)).ToArray();
        var values = Enumerable.Range(0, rows * perRow)
            .Select(_ => rng.Next(10) == 0 ? float.NegativeInfinity : (float)((rng.NextDouble() * 2) - 1) * 3)
            .ToArray();
        x.Kernels.ScatterAdd(x, ids, values);
        var actual = x.ToArray();
        for (int r = 0; r < rows; r++)
        {
            var row = LogitData.Row(data, vocab, r);
            var rowIds = ids.Skip(r * perRow).Take(perRow).ToArray();
            var rowValues = values.Skip(r * perRow).Take(perRow).ToArray();
            var expected = ReferenceKernels.ScatterAdd(row, rowIds, rowValues);
            double sum = rowValues.Where(float.IsFinite).Sum(v => Math.Abs((double)v));
            AssertClose(actual, r, vocab, expected, i => Math.Abs((double)row[i]) + sum, "scatter-add");
        }
    }

    [Theory]
    [MemberData(nameof(TorchTestData.Shapes), MemberType = typeof(TorchTestData))]
    public void Sample_matches_reference(int rows, int vocab)
    {
        var data = TorchTestData.Logits(rows, vocab);
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        var rng = new Random(TorchTestData.Seed(rows, vocab) + 9);
        for (int draw = 0; draw < 3; draw++)
        {
            var u = Enumerable.Range(0, rows).Select(_ => rng.NextDouble()).ToArray();
            var actual = new int[rows];
            x.Kernels.Sample(x, u, actual);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var (expected, margin) = ReferenceKernels.Sample(row, r, u[r]);
                float.IsNegativeInfinity(row[actual[r]]).Should().BeFalse($"row {r}: a token with zero weight was sampled");
                if (actual[r] == expected)
                {
                    continue;
                }

                // Within rounding distance of a CDF step either neighbouring token (with weight) is acceptable.
                margin.Should().BeLessThan(1e-5, $"row {r}, u {u[r]}: token {actual[r]} vs {expected}");
                var positive = Enumerable.Range(0, vocab).Where(i => !float.IsNegativeInfinity(row[i])).ToList();
                Math.Abs(positive.IndexOf(actual[r]) - positive.IndexOf(expected)).Should().Be(1, $"row {r}: boundary case must be a neighbouring token");
            }
        }
    }

    private static void AssertClose(float[] actual, int row, int vocab, double[] expected, Func<int, double> scale, string what)
    {
        for (int i = 0; i < vocab; i++)
        {
            double a = actual[(row * vocab) + i];
            if (!Tolerance.Close(a, expected[i], scale(i)))
            {
                a.Should().Be(expected[i], $"{what}: row {row}, token {i} is outside the tolerance");
            }
        }
    }
}

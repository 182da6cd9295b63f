using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The contract of <see cref="ILogitKernels"/>, checked against the double-precision
/// <see cref="ReferenceKernels"/> over every shape of <see cref="LogitData"/>. Each backend derives
/// a class that says how to build a batch; the tests are the same for all backends.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    /// <summary>Every vocabulary size of <see cref="LogitData.Vocabs"/>.</summary>
    public static TheoryData<int> VocabCases()
    {
        var data = new TheoryData<int>();
        foreach (int vocab in LogitData.Vocabs)
        {
            data.Add(vocab);
        }

        return data;
    }

    /// <summary>Row counts used for <paramref name="vocab"/> (see <see cref="LogitData.Shapes"/>).</summary>
    protected static IEnumerable<int> RowsFor(int vocab) =>
        LogitData.Shapes().Where(s => s.Vocab == vocab).Select(s => s.Rows);

    private static int Seed(int rows, int vocab) => unchecked((vocab * 7919) + (rows * 104729));

    private static double MaxAbsFinite(float[] row) =>
        row.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The scale of log-domain results: ln S carries float32 rounding relative to S ≥ 1, so log-probs and
    /// logsumexp have an absolute precision of ~1e-7 even where the result itself is near 0.
    /// </summary>
    private static double LogScale(float[] row) => Math.Max(1, MaxAbsFinite(row));

    private static void AssertRowClose(float[] actual, double[] expected, int row, string kernel, double scale = 0)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Tolerance.Close(actual[i], expected[i], scale))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{kernel}: row {row}, token {i}: expected {expected[i]:R}, got {actual[i]:R} (scale {scale:R}, vocab {expected.Length}).");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Softmax_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab));
            using var x = Create(data, rows, vocab);
            using var destination = x.CreateLike();
            x.Kernels.Softmax(x, destination);
            var actual = destination.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var expected = ReferenceKernels.Softmax(LogitData.Row(data, vocab, r), r);
                AssertRowClose(LogitData.Row(actual, vocab, r), expected, r, "softmax");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void LogSoftmax_matches_reference_in_place(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 1);
            using var x = Create(data, rows, vocab);
            x.Kernels.LogSoftmax(x, x);
            var actual = x.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var expected = ReferenceKernels.LogSoftmax(row, r);
                AssertRowClose(LogitData.Row(actual, vocab, r), expected, r, "log-softmax", LogScale(row));
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void LogSumExp_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 2);
            using var x = Create(data, rows, vocab);
            var actual = new float[rows];
            x.Kernels.LogSumExp(x, actual);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                double expected = ReferenceKernels.LogSumExp(row, r);
                Tolerance.Close(actual[r], expected, LogScale(row)).Should().BeTrue($"row {r}: expected {expected:R}, got {actual[r]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Scale_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 3);
            using var x = Create(data, rows, vocab);
            using var destination = x.CreateLike();
            var factors = Enumerable.Range(0, rows).Select(r => r % 2 == 0 ? 1f / 0.7f : 3.5f).ToArray();
            x.Kernels.Scale(x, factors, destination);
            var actual = destination.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var expected = ReferenceKernels.Scale(LogitData.Row(data, vocab, r), factors[r]);
                AssertRowClose(LogitData.Row(actual, vocab, r), expected, r, "scale");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Affine_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var xs = LogitData.Random(rows, vocab, Seed(rows, vocab) + 4);

            // y and z finite (a -inf with a negative coefficient is an error, tested separately).
            var rng = new Random(Seed(rows, vocab));
            var ys = Enumerable.Range(0, rows * vocab).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
            var zs = Enumerable.Range(0, rows * vocab).Select(_ => (float)(rng.NextDouble() * 2000 - 1000)).ToArray();
            using var x = Create(xs, rows, vocab);
            using var y = Create(ys, rows, vocab);
            using var z = Create(zs, rows, vocab);
            using var destination = x.CreateLike();
            x.Kernels.Affine(1.5f, x, -0.5f, y, 0.25f, z, destination);
            var three = destination.ToArray();
            x.Kernels.Affine(2f, x, -1f, y, 0f, null, y);
            var twoInPlace = y.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var xr = LogitData.Row(xs, vocab, r);
                var yr = LogitData.Row(ys, vocab, r);
                var zr = LogitData.Row(zs, vocab, r);
                double scale = (1.5 * MaxAbsFinite(xr)) + (0.5 * MaxAbsFinite(yr)) + (0.25 * MaxAbsFinite(zr));
                AssertRowClose(LogitData.Row(three, vocab, r), ReferenceKernels.Affine(1.5, xr, -0.5, yr, 0.25, zr), r, "affine(3)", scale);
                AssertRowClose(LogitData.Row(twoInPlace, vocab, r), ReferenceKernels.Affine(2, xr, -1, yr, 0, null), r, "affine(2)", scale * 2);
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void ArgMax_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 5);
            using var x = Create(data, rows, vocab);
            var actual = new int[rows];
            x.Kernels.ArgMax(x, actual);
            for (int r = 0; r < rows; r++)
            {
                actual[r].Should().Be(ReferenceKernels.ArgMax(LogitData.Row(data, vocab, r), r), $"row {r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskBelow_matches_reference_in_place(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 6);

            // Thresholds taken from the rows themselves, so ties at the threshold are exercised.
            var thresholds = Enumerable.Range(0, rows).Select(r => data[(r * vocab) + ((r * 13) % vocab)]).ToArray();
            thresholds[0] = float.NegativeInfinity;
            using var x = Create(data, rows, vocab);
            x.Kernels.MaskBelow(x, thresholds, x);
            var actual = x.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var expected = ReferenceKernels.MaskBelow(LogitData.Row(data, vocab, r), thresholds[r]);
                LogitData.Row(actual, vocab, r).Should().Equal(expected, $"row {r}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void KthLargest_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 7);
            var k = Enumerable.Range(0, rows).Select(r => new[] { 1, 2, 40, vocab / 2, vocab, 1000 }[r % 6]).Select(v => Math.Clamp(v, 1, vocab)).ToArray();
            using var x = Create(data, rows, vocab);
            var actual = new float[rows];
            x.Kernels.KthLargest(x, k, actual);
            for (int r = 0; r < rows; r++)
            {
                actual[r].Should().Be(ReferenceKernels.KthLargest(LogitData.Row(data, vocab, r), k[r]), $"row {r}, k {k[r]}");
            }
        }
    }

    /// <summary>
    /// Rows whose order defeats a one-pass heap (ascending, low special-token block first, heavy ties at the k-th value,
    /// -inf blocks, descending), where the selection starts from a lower bound taken from block maxima.
    /// </summary>
    [Theory]
    [InlineData(80, 40)]
    [InlineData(512, 40)]
    [InlineData(513, 50)]
    [InlineData(4097, 40)]
    [InlineData(32000, 40)]
    [InlineData(32000, 1000)]
    public void KthLargest_matches_reference_on_structured_rows(int vocab, int k)
    {
        var random = new Random(vocab + k);
        var shapes = new Func<int, float>[]
        {
            i => i,                                                             // ascending
            i => -i,                                                            // descending
            i => i < vocab / 2 ? 0.001f * random.Next(3) : (float)random.NextDouble(), // flat low block first
            i => i % 7 == 0 ? 5f : 1f,                                          // many ties at the k-th value
            i => i < vocab - k ? float.NegativeInfinity : i,                    // only the last k are finite
            i => i % 3 == 0 ? float.NegativeInfinity : (float)Math.Round(random.NextDouble() * 4, 1), // -inf and ties
            _ => 2.5f,                                                          // constant
        };

        foreach (var shape in shapes)
        {
            var data = Enumerable.Range(0, vocab).Select(shape).ToArray();
            using var x = Create(data, 1, vocab);
            var actual = new float[1];
            x.Kernels.KthLargest(x, new[] { k }, actual);
            actual[0].Should().Be(ReferenceKernels.KthLargest(data, k));
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void TopPThreshold_matches_reference(int vocab)
    {
        double[] ps = { 0.0, 0.5, 0.9, 0.95, 0.999, 1.0, 0.3 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 8);
            var p = Enumerable.Range(0, rows).Select(r => ps[r % ps.Length]).ToArray();
            using var x = Create(data, rows, vocab);
            foreach (int minKeep in new[] { 1, 3 })
            {
                var actual = new float[rows];
                x.Kernels.TopPThreshold(x, p, minKeep, actual);
                for (int r = 0; r < rows; r++)
                {
                    var (expected, margin) = ReferenceKernels.TopPThreshold(LogitData.Row(data, vocab, r), r, p[r], minKeep);
                    if (margin > 1e-5)
                    {
                        actual[r].Should().Be(expected, $"row {r}, p {p[r]}, minKeep {minKeep}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(4097)]
    [InlineData(32000)]
    [InlineData(128256)]
    public void TopPThreshold_on_flat_rows_with_a_large_nucleus_matches_reference(int vocab)
    {
        // Flat rows put most tokens in the nucleus (the CPU kernel's value-bucket path), with ties and -inf.
        var rng = new Random(vocab);
        const int rows = 3;
        var data = new float[rows * vocab];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (i % 97) == 0 ? float.NegativeInfinity : (i % 5 == 0 ? 0.25f : (float)((rng.NextDouble() * 2) - 1));
        }

        using var x = Create(data, rows, vocab);
        int compared = 0;
        foreach (double p in new[] { 0.5, 0.9, 0.99, 0.999999 })
        {
            foreach (int minKeep in new[] { 1, vocab - 10 })
            {
                var actual = new float[rows];
                x.Kernels.TopPThreshold(x, new[] { p, p, p }, minKeep, actual);
                for (int r = 0; r < rows; r++)
                {
                    // Per-token mass here is ~1/V, so boundaries sit far closer than the 1e-5 policy: compare every
                    // case that float32 probabilities (≤ ~1e-6 of the accumulated mass) cannot decide.
                    var (expected, margin) = ReferenceKernels.TopPThreshold(LogitData.Row(data, vocab, r), r, p, minKeep);
                    if (margin > 1e-6)
                    {
                        compared++;
                        actual[r].Should().Be(expected, $"row {r}, p {p}, minKeep {minKeep}");
                    }
                }
            }
        }

        compared.Should().BePositive("some cases must be far enough from a boundary to compare");
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Sample_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 9);
            var rng = new Random(Seed(rows, vocab));
            using var x = Create(data, rows, vocab);
            for (int draw = 0; draw < 4; draw++)
            {
                var u = Enumerable.Range(0, rows).Select(_ => rng.NextDouble()).ToArray();
                var actual = new int[rows];
                x.Kernels.Sample(x, u, actual);
                for (int r = 0; r < rows; r++)
                {
                    var row = LogitData.Row(data, vocab, r);
                    var (expected, margin) = ReferenceKernels.Sample(row, r, u[r]);
                    float.IsNegativeInfinity(row[actual[r]]).Should().BeFalse("a removed token is never sampled");
                    if (margin > 1e-5)
                    {
                        actual[r].Should().Be(expected, $"row {r}, u {u[r]:R}");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Gather_Scatter_and_ScatterAdd_match_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 10);
            var rng = new Random(Seed(rows, vocab));
            const int perRow = 9;

            // Repeated ids accumulate; negative ids are padding.
            var ids = Enumerable.Range(0, rows * perRow).Select(i => i % perRow == 8 ? -1 : rng.Next(Math.Min(vocab, 5))).ToArray();
            var values = Enumerable.Range(0, rows * perRow).Select(i => i % perRow == 7 ? float.NegativeInfinity : (float)(rng.NextDouble() * 4 - 2)).ToArray();
            using var x = Create(data, rows, vocab);
            using var set = Create(data, rows, vocab);
            var gathered = new float[ids.Length];
            x.Kernels.Gather(x, ids, gathered);
            x.Kernels.ScatterAdd(x, ids, values);
            var scattered = x.ToArray();
            set.Kernels.Scatter(set, ids, values);
            var written = set.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                for (int j = 0; j < perRow; j++)
                {
                    gathered[(r * perRow) + j].Should().Be(ReferenceKernels.Gather(row, ids[(r * perRow) + j]));
                }

                var expected = ReferenceKernels.ScatterAdd(row, ids.Skip(r * perRow).Take(perRow).ToArray(), values.Skip(r * perRow).Take(perRow).ToArray());
                AssertRowClose(LogitData.Row(scattered, vocab, r), expected, r, "scatter-add", MaxAbsFinite(row));
                var expectedWritten = ReferenceKernels.Scatter(row, ids.Skip(r * perRow).Take(perRow).ToArray(), values.Skip(r * perRow).Take(perRow).ToArray());
                LogitData.Row(written, vocab, r).Should().Equal(expectedWritten, $"scatter, row {r}");
            }
        }
    }
}

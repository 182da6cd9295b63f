using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The kernels that keep a warping or forcing decision on the backend (<see cref="ILogitKernels.MaskExceptArgMax"/>,
/// <see cref="ILogitKernels.BoostTokens"/>, <see cref="ILogitKernels.ScaleByEntropy"/>, <see cref="ILogitKernels.MaskExceptTopK"/>, <see cref="ILogitKernels.MaskBelowTopPComplement"/>,
/// <see cref="ILogitKernels.MaskTopChoices"/>)
/// against references: every shape of <see cref="LogitData"/>, ties, signed zeros, special rows, all-<c>-∞</c> rows,
/// invalid input and arguments.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>The reference of <see cref="ILogitKernels.MaskExceptArgMax"/> for one row: the first index holding the maximum.</summary>
    private static float[] ReferenceMaskExceptArgMax(float[] row, bool selected)
    {
        var result = (float[])row.Clone();
        if (!selected || !row.Any(float.IsFinite))
        {
            return result;
        }

        float max = row.Where(float.IsFinite).Max();
        int token = Array.FindIndex(row, v => v == max);
        Array.Fill(result, float.NegativeInfinity);
        result[token] = row[token];
        return result;
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskExceptArgMax_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var random = new Random(Seed(rows, vocab) + 61);
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 61);
            var selected = Enumerable.Range(0, rows).Select(r => r % 3 != 2).ToArray();
            for (int r = 0; r < rows; r++)
            {
                var row = data.AsSpan(r * vocab, vocab);
                switch (r % 4)
                {
                    case 1:
                        row.Fill(float.NegativeInfinity);
                        break;
                    case 2 when vocab > 1:
                        // A tie for the maximum: the lower index wins.
                        float max = row.ToArray().Max();
                        row[random.Next(vocab)] = max;
                        row[random.Next(vocab)] = max;
                        break;
                    case 3:
                        // Removed entries, and the maximum at the last position.
                        for (int i = 0; i < vocab; i += 2)
                        {
                            row[i] = float.NegativeInfinity;
                        }

                        row[vocab - 1] = 50f;
                        break;
                }
            }

            foreach (bool inPlace in new[] { true, false })
            {
                using var x = Create(data, rows, vocab);
                using var destination = inPlace ? null : x.CreateLike();
                x.Kernels.MaskExceptArgMax(x, selected, destination ?? x);
                var actual = (destination ?? x).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    LogitData.Row(actual, vocab, r).Should().Equal(ReferenceMaskExceptArgMax(LogitData.Row(data, vocab, r), selected[r]), $"rows {rows}, row {r}, in place {inPlace}");
                }

                if (!inPlace)
                {
                    x.ToArray().Should().Equal(data, "the input is not written");
                }
            }
        }
    }

    [Fact]
    public void MaskExceptArgMax_of_special_rows_matches_reference()
    {
        // Signed zeros compare equal (-0 first keeps -0), huge values, a single finite entry.
        float[][] cases =
        {
            new[] { -1f, -0f, 0f, -2f },
            new[] { float.NegativeInfinity, 0f, -0f },
            new[] { -3e38f, 3e38f, 3e38f, float.NegativeInfinity },
            new[] { float.NegativeInfinity, float.NegativeInfinity, -7f },
            new[] { 1f },
        };
        foreach (var row in cases.Concat(SpecialRows().Select(s => s.Row)))
        {
            using var x = Create(row, 1, row.Length);
            x.Kernels.MaskExceptArgMax(x, new[] { true }, x);
            var actual = x.ToArray();
            var expected = ReferenceMaskExceptArgMax(row, true);
            actual.Should().Equal(expected, $"row [{string.Join(", ", row)}]");
            for (int i = 0; i < row.Length; i++)
            {
                // Equal compares -0 and +0 as equal: the kept zero must be the row's own.
                float.IsNegative(actual[i]).Should().Be(float.IsNegative(expected[i]), $"the sign at {i} of [{string.Join(", ", row)}]");
            }
        }
    }

    [Fact]
    public void MaskExceptArgMax_rejects_bad_input_and_arguments()
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 62);
        data[vocab + 6] = float.PositiveInfinity;
        data[(2 * vocab) + 1] = float.NaN;
        using var x = Create(data, rows, vocab);

        // An unselected row is checked too; the lowest bad row wins, and nothing is written.
        var error = FluentActions.Invoking(() => x.Kernels.MaskExceptArgMax(x, new[] { true, false, true }, x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 6, "input"));
        x.ToArray().Should().Equal(data, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 63), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(valid, new[] { true, false }, valid)).Should().Throw<ArgumentException>().WithParameterName("rows");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(valid, new[] { true, false, true, true }, valid)).Should().Throw<ArgumentException>().WithParameterName("rows");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(null!, new[] { true, false, true }, valid)).Should().Throw<ArgumentNullException>().WithParameterName("x");
    }
    /// <summary>The float64 boost of one value, rounded once and saturated (the reference of <see cref="ILogitKernels.BoostTokens"/>).</summary>
    private static float ReferenceBoost(float value, double growth)
    {
        if (value == 0 || float.IsNegativeInfinity(value))
        {
            return value;
        }

        float rounded = (float)((double)value + (Math.Abs((double)value) * growth));
        return float.IsPositiveInfinity(rounded) ? float.MaxValue : rounded;
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void BoostTokens_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var random = new Random(Seed(rows, vocab) + 65);
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 65);
            int perRow = Math.Min(vocab, 5) + 2;
            var ids = new int[rows * perRow];
            var growth = new double[ids.Length];
            double[] gs = { 0.0, 0.5, 1.1, 1e10, double.PositiveInfinity, 1e300 };
            for (int i = 0; i < ids.Length; i++)
            {
                int position = i % perRow;

                // Padding at the end of a row, a repeated id before it (the last edit wins), random ids otherwise.
                ids[i] = position == perRow - 1 ? -1 : position == perRow - 2 ? ids[i - position] : random.Next(vocab);
                growth[i] = gs[random.Next(gs.Length)];
            }

            float[] specials = { float.NegativeInfinity, 0f, -0f, 3e38f, -3e38f, 1e-38f, -2.5f };
            for (int r = 0; r < rows; r++)
            {
                data[(r * vocab) + ids[r * perRow]] = specials[r % specials.Length];
            }

            var expected = (float[])data.Clone();
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] >= 0)
                {
                    int flat = ((i / perRow) * vocab) + ids[i];
                    expected[flat] = ReferenceBoost(data[flat], growth[i]);
                }
            }

            using var x = Create(data, rows, vocab);
            x.Kernels.BoostTokens(x, ids, growth);
            var actual = x.ToArray();
            actual.Should().Equal(expected, $"rows {rows}, vocab {vocab}");
            for (int i = 0; i < actual.Length; i++)
            {
                float.IsNegative(actual[i]).Should().Be(float.IsNegative(expected[i]), $"the sign at {i} (a zero keeps its sign)");
            }
        }
    }

    [Fact]
    public void BoostTokens_keeps_the_rules_of_the_boost()
    {
        // z + |z|·g; zeros and -inf stay; an overflow saturates at float.MaxValue; a negative logit can turn positive.
        var data = new[] { 2f, -2f, 0f, -0f, float.NegativeInfinity, 3e38f, -1f, 5f };
        using var x = Create(data, 1, data.Length);
        x.Kernels.BoostTokens(x, new[] { 0, 1, 2, 3, 4, 5, 6, -1 }, new[] { 0.5, 0.5, double.PositiveInfinity, double.PositiveInfinity, 2.0, 1.0, 3.0, double.NaN });
        x.ToArray().Should().Equal(3f, -1f, 0f, -0f, float.NegativeInfinity, float.MaxValue, 2f, 5f);
    }

    [Fact]
    public void BoostTokens_rejects_bad_input_and_arguments()
    {
        const int rows = 2, vocab = 9;
        var data = LogitData.Random(rows, vocab, 66);
        data[vocab + 4] = float.NaN;
        data[2] = float.PositiveInfinity;
        using var x = Create(data, rows, vocab);
        var original = x.ToArray();

        // Only touched entries are checked: the +inf at (0, 2) is not touched, the NaN at (1, 4) is.
        var error = FluentActions.Invoking(() => x.Kernels.BoostTokens(x, new[] { 3, 1, 4, 5 }, new[] { 1.0, 1.0, 1.0, 1.0 }))
            .Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 4, "input"));
        x.ToArray().Should().Equal(original, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 67), rows, vocab);
        void Run(int[] ids, double[] growth) => valid.Kernels.BoostTokens(valid, ids, growth);
        FluentActions.Invoking(() => Run(new[] { 1, vocab }, new[] { 1.0, 1.0 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("tokenIds");
        FluentActions.Invoking(() => Run(new[] { 1, 2, 3 }, new[] { 1.0, 1.0, 1.0 })).Should().Throw<ArgumentException>().WithParameterName("tokenIds");
        FluentActions.Invoking(() => Run(new[] { 1, 2 }, new[] { 1.0 })).Should().Throw<ArgumentException>().WithParameterName("growth");
        foreach (double bad in new[] { double.NaN, -0.5, double.NegativeInfinity })
        {
            FluentActions.Invoking(() => Run(new[] { 1, 2 }, new[] { 1.0, bad })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("growth");
        }

        // Padding is not validated: its growth is ignored.
        var before = valid.ToArray();
        Run(new[] { -1, -1 }, new[] { double.NaN, -1.0 });
        valid.ToArray().Should().Equal(before);
    }
    /// <summary>Parameter sets of <see cref="ILogitKernels.ScaleByEntropy"/>: (minimum, range, exponent).</summary>
    private static readonly (double Minimum, double Range, double Exponent)[] EntropyTemperatures =
    {
        (0.3, 1.4, 1.0),     // dynamic temperature 1.0 ± 0.7
        (0.5, 0.5, 2.0),
        (0.0, 1e-6, 1.0),    // always below the greedy cut-off: the argmax only
        (2.0, 0.0, 1.0),     // a constant temperature 2
        (1.0, 0.0, 1.0),     // factor 1: unchanged
        (0.0, -0.5, 1.0),    // a negative range (T0 below δ): greedy
    };

    /// <summary>
    /// The reference of <see cref="ILogitKernels.ScaleByEntropy"/> for one row from the float64 entropy, and the distance of
    /// <c>T</c> to the greedy cut-off (relative), so callers skip rows within rounding distance of that decision.
    /// </summary>
    private static (float[] Row, double Margin) ReferenceScaleByEntropy(float[] row, int rowIndex, (double Minimum, double Range, double Exponent) p, double greedyBelow)
    {
        var stats = ReferenceKernels.RowStatistics(row, rowIndex);
        if (stats.Finite <= 1)
        {
            return ((float[])row.Clone(), double.PositiveInfinity);
        }

        double t = p.Minimum + (p.Range * Math.Pow(stats.Entropy / Math.Log(stats.Finite), p.Exponent));
        double margin = Math.Abs(t - greedyBelow) / Math.Max(greedyBelow, 1e-300);
        if (t < greedyBelow)
        {
            return (ReferenceMaskExceptArgMax(row, true), margin);
        }

        float factor = (float)(1.0 / t);
        return (row.Select(v => v * factor).ToArray(), margin);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void ScaleByEntropy_matches_reference(int vocab)
    {
        const double greedyBelow = 1e-5;
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 69);
            if (rows > 2)
            {
                // An empty row and a row with one finite entry are copied unchanged.
                Array.Fill(data, float.NegativeInfinity, vocab, vocab);
                Array.Fill(data, float.NegativeInfinity, 2 * vocab, vocab);
                data[(2 * vocab) + (vocab / 2)] = 4f;
            }

            var parameters = Enumerable.Range(0, rows).Select(r => EntropyTemperatures[(r + vocab) % EntropyTemperatures.Length]).ToArray();
            var minimum = parameters.Select(p => p.Minimum).ToArray();
            foreach (double exponent in new[] { 1.0, 2.0 })
            {
                var range = parameters.Select(p => p.Range).ToArray();
                foreach (bool inPlace in new[] { true, false })
                {
                    using var x = Create(data, rows, vocab);
                    using var destination = inPlace ? null : x.CreateLike();
                    x.Kernels.ScaleByEntropy(x, minimum, range, exponent, greedyBelow, destination ?? x);
                    var actual = (destination ?? x).ToArray();
                    for (int r = 0; r < rows; r++)
                    {
                        var (expected, margin) = ReferenceScaleByEntropy(LogitData.Row(data, vocab, r), r, (minimum[r], range[r], exponent), greedyBelow);
                        if (margin > 1e-4)
                        {
                            var got = LogitData.Row(actual, vocab, r);
                            for (int i = 0; i < vocab; i++)
                            {
                                Tolerance.Close(got[i], expected[i]).Should().BeTrue($"rows {rows}, row {r}, token {i}: expected {expected[i]:R}, got {got[i]:R} (exponent {exponent}, in place {inPlace})");
                            }

                            compared++;
                        }
                    }
                }
            }
        }

        compared.Should().BePositive("some rows must be far from the greedy cut-off to compare");
    }

    [Fact]
    public void ScaleByEntropy_rejects_bad_input_and_arguments()
    {
        const int rows = 2, vocab = 9;
        var data = LogitData.Random(rows, vocab, 70);
        data[vocab + 4] = float.NaN;
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.ScaleByEntropy(x, new[] { 0.5, 0.5 }, new[] { 1.0, 1.0 }, 1.0, 1e-5, x))
            .Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 4, "input"));
        x.ToArray().Should().Equal(data, "a failed call leaves the batch unchanged");

        // Temperature 0.1 on a huge logit overflows: stage "scale", at the first overflowing (row, token).
        var huge = LogitData.Random(rows, vocab, 71);
        huge[vocab + 2] = 3e38f;
        using var overflowing = Create(huge, rows, vocab);
        error = FluentActions.Invoking(() => overflowing.Kernels.ScaleByEntropy(overflowing, new[] { 1e-1, 1e-1 }, new[] { 0.0, 0.0 }, 1.0, 1e-5, overflowing))
            .Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 2, "scale"));

        using var valid = Create(LogitData.Random(rows, vocab, 72), rows, vocab);
        void Run(double[] minimum, double[] range, double exponent, double greedyBelow) => valid.Kernels.ScaleByEntropy(valid, minimum, range, exponent, greedyBelow, valid);
        FluentActions.Invoking(() => Run(new[] { 1.0 }, new[] { 1.0, 1.0 }, 1, 1e-5)).Should().Throw<ArgumentException>().WithParameterName("minimum");
        FluentActions.Invoking(() => Run(new[] { 1.0, 1.0 }, new[] { 1.0, 1.0, 1.0 }, 1, 1e-5)).Should().Throw<ArgumentException>().WithParameterName("range");
        FluentActions.Invoking(() => Run(new[] { 1.0, double.NaN }, new[] { 1.0, 1.0 }, 1, 1e-5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minimum");
        FluentActions.Invoking(() => Run(new[] { 1.0, 1.0 }, new[] { double.PositiveInfinity, 1.0 }, 1, 1e-5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("range");
        foreach (double exponent in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => Run(new[] { 1.0, 1.0 }, new[] { 1.0, 1.0 }, exponent, 1e-5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("exponent");
        }

        foreach (double greedyBelow in new[] { -1e-5, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => Run(new[] { 1.0, 1.0 }, new[] { 1.0, 1.0 }, 1, greedyBelow)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("greedyBelow");
        }
    }
    /// <summary>The reference of <see cref="ILogitKernels.MaskExceptTopK"/> for one row: a stable sort by value, descending.</summary>
    private static float[] ReferenceExactTopK(float[] row, int k)
    {
        var kept = Enumerable.Range(0, row.Length)
            .Where(i => float.IsFinite(row[i]))
            .OrderByDescending(i => row[i])
            .ThenBy(i => i)
            .Take(k)
            .ToHashSet();
        return row.Select((v, i) => kept.Contains(i) ? v : float.NegativeInfinity).ToArray();
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskExceptTopK_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var random = new Random(Seed(rows, vocab) + 73);
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 73);
            var k = new int[rows];
            for (int r = 0; r < rows; r++)
            {
                int[] choices = { 1, 2, 3, 40, vocab, Math.Max(1, vocab / 2), random.Next(1, vocab + 1) };
                k[r] = Math.Min(vocab, choices[(r + vocab) % choices.Length]);
                var row = data.AsSpan(r * vocab, vocab);
                if (r % 5 == 1)
                {
                    row.Fill(float.NegativeInfinity);
                    continue;
                }

                // A tie group straddling the boundary (coarse values), signed zeros among them.
                if (r % 2 == 0)
                {
                    for (int i = 0; i < vocab; i++)
                    {
                        row[i] = MathF.Round(row[i]);
                        if (row[i] == 0 && i % 2 == 1)
                        {
                            row[i] = -0f;
                        }
                    }
                }

                if (r % 3 == 2)
                {
                    for (int i = 1; i < vocab; i += 3)
                    {
                        row[i] = float.NegativeInfinity;
                    }
                }
            }

            foreach (bool inPlace in new[] { true, false })
            {
                using var x = Create(data, rows, vocab);
                using var destination = inPlace ? null : x.CreateLike();
                x.Kernels.MaskExceptTopK(x, k, destination ?? x);
                var actual = (destination ?? x).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    var expected = ReferenceExactTopK(LogitData.Row(data, vocab, r), k[r]);
                    var got = LogitData.Row(actual, vocab, r);
                    got.Should().Equal(expected, $"rows {rows}, row {r}, k {k[r]}, in place {inPlace}");
                    got.Count(float.IsFinite).Should().Be(Math.Min(k[r], LogitData.Row(data, vocab, r).Count(float.IsFinite)));
                }
            }
        }
    }

    [Fact]
    public void MaskExceptTopK_breaks_ties_by_the_lowest_id()
    {
        // [3, 2, 2] with k = 2 keeps the first 2; [2, 0, 0] with k = 1 only 2; signed zeros tie and the lower id wins.
        using var x = Create(new[] { 3f, 2f, 2f, 2f, 0f, 0f, -0f, 0f, -1f }, 3, 3);
        x.Kernels.MaskExceptTopK(x, new[] { 2, 1, 1 }, x);
        x.ToArray().Should().Equal(3f, 2f, float.NegativeInfinity, 2f, float.NegativeInfinity, float.NegativeInfinity, -0f, float.NegativeInfinity, float.NegativeInfinity);
        float.IsNegative(x.ToArray()[6]).Should().BeTrue("the kept zero is the row's own -0");
    }

    [Fact]
    public void MaskExceptTopK_rejects_bad_input_and_arguments()
    {
        const int rows = 2, vocab = 9;
        var data = LogitData.Random(rows, vocab, 74);
        data[vocab + 5] = float.NaN;
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.MaskExceptTopK(x, new[] { 2, 2 }, x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 5, "input"));

        using var valid = Create(LogitData.Random(rows, vocab, 75), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.MaskExceptTopK(valid, new[] { 2 }, valid)).Should().Throw<ArgumentException>().WithParameterName("k");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptTopK(valid, new[] { 2, 0 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptTopK(valid, new[] { vocab + 1, 2 }, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("k");
    }
    /// <summary>
    /// The float64 reference of <see cref="ILogitKernels.MaskBelowTopPComplement"/> for one row, and the distance of the
    /// nearest running sum to <c>1 - p</c>, so callers skip rows within float32 rounding distance of the cut.
    /// </summary>
    private static (float[] Masked, double Margin) ReferenceTopPComplement(float[] row, double p, int minKeep)
    {
        var sorted = row.Where(float.IsFinite).OrderBy(v => v).ToArray();
        if (sorted.Length == 0 || p >= 1)
        {
            return ((float[])row.Clone(), double.PositiveInfinity);
        }

        double max = sorted[^1];
        double sum = sorted.Sum(v => Math.Exp(v - max));
        double complement = (float)(1 - p);
        double cumulative = 0;
        double margin = double.PositiveInfinity;
        int removed = 0;
        bool stopped = false;
        foreach (float v in sorted)
        {
            cumulative += Math.Exp(v - max) / sum;
            margin = Math.Min(margin, Math.Abs(cumulative - complement));
            if (!stopped && cumulative <= complement)
            {
                removed++;
            }
            else
            {
                stopped = true;
            }
        }

        removed = Math.Min(removed, Math.Max(0, sorted.Length - minKeep));
        return (ReferenceKernels.MaskBelow(row, sorted[removed]), margin);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskBelowTopPComplement_matches_reference(int vocab)
    {
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 77);
            if (rows > 2)
            {
                Array.Fill(data, float.NegativeInfinity, vocab, vocab);
            }

            double[] ps = { 0.9, 0.5, 0.0, 1.0, 0.95, 0.3 };
            var p = Enumerable.Range(0, rows).Select(r => ps[(r + vocab) % ps.Length]).ToArray();
            foreach (int minKeep in new[] { 1, 3 })
            {
                foreach (bool inPlace in new[] { true, false })
                {
                    using var x = Create(data, rows, vocab);
                    using var destination = inPlace ? null : x.CreateLike();
                    x.Kernels.MaskBelowTopPComplement(x, p, minKeep, destination ?? x);
                    var actual = (destination ?? x).ToArray();
                    for (int r = 0; r < rows; r++)
                    {
                        var (expected, margin) = ReferenceTopPComplement(LogitData.Row(data, vocab, r), p[r], minKeep);

                        // float32 running sums carry about vocab·6e-8 of rounding.
                        if (margin > 1e-7 * Math.Max(16, vocab))
                        {
                            LogitData.Row(actual, vocab, r).Should().Equal(expected, $"rows {rows}, row {r}, p {p[r]}, minKeep {minKeep}, in place {inPlace}");
                            compared++;
                        }
                    }
                }
            }
        }

        compared.Should().BePositive("some rows must be far enough from the cut to compare");
    }

    [Fact]
    public void MaskBelowTopPComplement_rejects_bad_input_and_arguments()
    {
        const int rows = 2, vocab = 9;
        var data = LogitData.Random(rows, vocab, 78);
        data[vocab + 3] = float.PositiveInfinity;
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.MaskBelowTopPComplement(x, new[] { 0.5, 0.5 }, 1, x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 3, "input"));
        x.ToArray().Should().Equal(data, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 79), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.MaskBelowTopPComplement(valid, new[] { 0.5 }, 1, valid)).Should().Throw<ArgumentException>().WithParameterName("p");
        foreach (double bad in new[] { -0.1, 1.5, double.NaN })
        {
            FluentActions.Invoking(() => valid.Kernels.MaskBelowTopPComplement(valid, new[] { 0.5, bad }, 1, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("p");
        }

        FluentActions.Invoking(() => valid.Kernels.MaskBelowTopPComplement(valid, new[] { 0.5, 0.5 }, 0, valid)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minTokensToKeep");
    }
    /// <summary>
    /// The float64 reference of <see cref="ILogitKernels.MaskTopChoices"/> for one row (XTC's rule), and the relative
    /// distance of the nearest probability to the threshold, so callers skip rows within rounding distance of it.
    /// </summary>
    private static (float[] Masked, double Margin) ReferenceTopChoices(float[] row, int rowIndex, double threshold, int minKeep, int[] protectedIds)
    {
        var stats = ReferenceKernels.RowStatistics(row, rowIndex);
        if (stats.Finite == 0 || double.IsPositiveInfinity(threshold))
        {
            return ((float[])row.Clone(), double.PositiveInfinity);
        }

        var p = row.Select(v => float.IsNegativeInfinity(v) ? 0 : Math.Exp(v - stats.LogSumExp)).ToArray();
        var qualifiers = Enumerable.Range(0, row.Length).Where(i => float.IsFinite(row[i]) && p[i] >= threshold).ToArray();
        double margin = Enumerable.Range(0, row.Length).Where(i => float.IsFinite(row[i]))
            .Select(i => Math.Abs(p[i] - threshold) / Math.Max(threshold, 1e-300)).DefaultIfEmpty(double.PositiveInfinity).Min();
        if (qualifiers.Length < 2)
        {
            return ((float[])row.Clone(), margin);
        }

        float leastLikely = qualifiers.Min(i => row[i]);
        double smallest = qualifiers.Min(i => p[i]);
        int removed = qualifiers.Count(i => p[i] > smallest);
        bool skip = removed == 0 || stats.Finite - removed < minKeep || protectedIds.Any(id => row[id] > leastLikely);
        return (skip ? (float[])row.Clone() : ReferenceKernels.MaskOutside(row, float.NegativeInfinity, leastLikely), margin);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskTopChoices_matches_reference(int vocab)
    {
        int compared = 0;
        int cut = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 81);
            for (int r = 0; r < rows; r++)
            {
                // A few top choices well above the rest, a tie among them in some rows.
                float[] tops = { 30f, 29.5f, 29f, r % 2 == 0 ? 29f : 28.5f, 28f };
                for (int j = 0; j < Math.Min(tops.Length, vocab); j++)
                {
                    data[(r * vocab) + ((j * 7) % vocab)] = tops[j];
                }
            }

            if (rows > 2)
            {
                Array.Fill(data, float.NegativeInfinity, vocab, vocab);
            }

            double[] thresholds = { 0.1, 0.05, 0.0, double.PositiveInfinity, 0.2, 0.6, 0.01 };
            var variants = new[] { (1, Array.Empty<int>()), (vocab, Array.Empty<int>()), (1, new[] { Math.Min(7, vocab - 1) }), (2, new[] { vocab - 1 }) };
            for (int variant = 0; variant < variants.Length; variant++)
            {
                var (minKeep, protectedIds) = variants[variant];
                var threshold = Enumerable.Range(0, rows).Select(r => thresholds[(r + variant) % thresholds.Length]).ToArray();
                foreach (bool inPlace in new[] { true, false })
                {
                    using var x = Create(data, rows, vocab);
                    using var destination = inPlace ? null : x.CreateLike();
                    x.Kernels.MaskTopChoices(x, threshold, minKeep, protectedIds, destination ?? x);
                    var actual = (destination ?? x).ToArray();
                    for (int r = 0; r < rows; r++)
                    {
                        var row = LogitData.Row(data, vocab, r);
                        var (expected, margin) = ReferenceTopChoices(row, r, threshold[r], minKeep, protectedIds);
                        if (margin > 1e-9)
                        {
                            LogitData.Row(actual, vocab, r).Should().Equal(expected, $"rows {rows}, row {r}, threshold {threshold[r]}, minKeep {minKeep}, protected [{string.Join(", ", protectedIds)}], in place {inPlace}");
                            compared++;
                            cut += expected.Count(float.IsFinite) < row.Count(float.IsFinite) ? 1 : 0;
                        }
                    }
                }
            }
        }

        compared.Should().BePositive("some rows must be far from the threshold to compare");
        if (vocab >= 8)
        {
            cut.Should().BePositive("some rows must be cut");
        }
    }

    [Fact]
    public void MaskTopChoices_rejects_bad_input_and_arguments()
    {
        const int rows = 2, vocab = 9;
        var data = LogitData.Random(rows, vocab, 82);
        data[vocab + 2] = float.NaN;
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.MaskTopChoices(x, new[] { 0.1, 0.1 }, 1, Array.Empty<int>(), x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 2, "input"));
        x.ToArray().Should().Equal(data, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 83), rows, vocab);
        void Run(double[] threshold, int minKeep, int[] ids) => valid.Kernels.MaskTopChoices(valid, threshold, minKeep, ids, valid);
        FluentActions.Invoking(() => Run(new[] { 0.1 }, 1, Array.Empty<int>())).Should().Throw<ArgumentException>().WithParameterName("threshold");
        foreach (double bad in new[] { -0.1, double.NaN, double.NegativeInfinity })
        {
            FluentActions.Invoking(() => Run(new[] { 0.1, bad }, 1, Array.Empty<int>())).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("threshold");
        }

        FluentActions.Invoking(() => Run(new[] { 0.1, 0.1 }, 0, Array.Empty<int>())).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("minTokensToKeep");
        FluentActions.Invoking(() => Run(new[] { 0.1, 0.1 }, 1, new[] { vocab })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("protectedIds");
        FluentActions.Invoking(() => Run(new[] { 0.1, 0.1 }, 1, new[] { -1 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("protectedIds");
    }
}

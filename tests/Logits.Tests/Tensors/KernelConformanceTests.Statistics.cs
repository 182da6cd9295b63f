using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The row-statistics family (<see cref="ILogitKernels.RowMax"/>, <see cref="ILogitKernels.RowStatistics"/>), the band
/// mask (<see cref="ILogitKernels.MaskOutside"/>), <see cref="ILogitKernels.LargestValues"/> and
/// <see cref="ILogitKernels.TypicalBand"/>, against the double-precision <see cref="ReferenceKernels"/>: every shape
/// of <see cref="LogitData"/>, rows that are all <c>-inf</c>, ties, signed zeros, huge finite logits, and the
/// parameter edges of each kernel.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>Every combination of the defined <see cref="RowStatisticKinds"/> flags.</summary>
    private static readonly RowStatisticKinds[] KindCombinations =
    {
        RowStatisticKinds.None,
        RowStatisticKinds.LogSumExp,
        RowStatisticKinds.Entropy,
        RowStatisticKinds.Moments,
        RowStatisticKinds.LogSumExp | RowStatisticKinds.Moments,
        RowStatisticKinds.All,
    };

    /// <summary>
    /// Rows of special values; <see cref="Tiled"/> repeats each up to a vector-width edge so the SIMD bodies and
    /// tails see them too. The last one is all <c>-inf</c>.
    /// </summary>
    private static readonly float[][] SpecialPatterns =
    {
        new[] { 3f, 2f, 1f, 0.5f, 0f, -1f, NegInf },                       // the base row B of docs/algorithms/truncation.md
        new[] { 0f, -0f, 0f, -0f },                                       // signed zeros, all tied
        new[] { -0f, -1f, NegInf, -0f, 0f, 2f },                          // signed zeros below the maximum
        new[] { 2.5f, 2.5f, 2.5f, NegInf, 2.5f },                         // one tie group and a removed token
        new[] { 5f, 5f, 1f, 1f, 1f, -3f, -3f, NegInf, 0.25f },            // several tie groups
        new[] { 1e30f, -1e30f, 0f, 1e30f, NegInf },                       // huge finite logits, tied maximum
        new[] { -1e30f, -1e30f, NegInf, -1e30f },                         // huge negative logits only
        new[] { float.MaxValue, -float.MaxValue, 1f },                    // the float32 range: z - m is -inf in float32
        new[] { 1000f, 999f, 88.8f, 87.8f },                              // beyond exp's float32 range
        new[] { NegInf, 7f, NegInf, NegInf },                             // a single finite entry
        new[] { NegInf, NegInf, NegInf },                                 // empty
    };

    private static readonly int[] SpecialLengths = { 67, 4097 };

    /// <summary>The pattern repeated to <paramref name="length"/> entries (ties and <c>-inf</c> stay what they were).</summary>
    private static float[] Tiled(float[] pattern, int length) =>
        Enumerable.Range(0, length).Select(i => pattern[i % pattern.Length]).ToArray();

    /// <summary>Every special pattern as is and tiled to each of <see cref="SpecialLengths"/>.</summary>
    private static IEnumerable<(string Name, float[] Row)> SpecialRows()
    {
        for (int p = 0; p < SpecialPatterns.Length; p++)
        {
            var pattern = SpecialPatterns[p];
            yield return ($"pattern {p}", pattern);
            foreach (int length in SpecialLengths)
            {
                yield return ($"pattern {p} tiled to {length}", Tiled(pattern, length));
            }
        }
    }

    /// <summary>Random data of a shape whose last row (when there are two or more) is all <c>-inf</c>.</summary>
    private static float[] RandomWithEmptyLastRow(int rows, int vocab, int seed)
    {
        var data = LogitData.Random(rows, vocab, seed);
        if (rows > 1)
        {
            Array.Fill(data, NegInf, (rows - 1) * vocab, vocab);
        }

        return data;
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>
    /// Checks one row's statistics: the count and maximum exactly (<c>-0 = +0</c>), what was not asked for NaN, and the
    /// rest within these tolerances.
    /// <list type="bullet">
    /// <item>Log-sum-exp: the contract's 1e-5 relative to <c>max(1, max|z|)</c>, as <see cref="ILogitKernels.LogSumExp"/>
    /// (<c>ln S</c> carries float32 rounding, an absolute error of ~1e-7 even when the result is near 0).</item>
    /// <item>Entropy: 1e-5 relative to the entropy scale <c>max(1, ln S + Σ p_i |z_i - m|)</c>. <c>H = ln S - T/S</c> is
    /// a difference of two terms of that size, each computed from float32 weights <c>exp(z - m)</c> (relative error
    /// ~1e-7), so a correct kernel is ~1e-7 of the scale away and the tolerance leaves a factor of 100; a relative
    /// tolerance on <c>H</c> itself would be meaningless where <c>H</c> is near 0 (a peaked row).</item>
    /// <item>Mean and standard deviation: 1e-5 relative to <c>max|z|</c>. Both scale with the logits, so their rounding
    /// error is bounded by the row's magnitude, not by their own (the deviation of a near-constant row is tiny while
    /// its terms are not).</item>
    /// </list>
    /// </summary>
    private static void AssertStatistics(LogitRowStatistics actual, ReferenceKernels.RowStatisticsResult expected, RowStatisticKinds kinds, float[] row, string context)
    {
        actual.Finite.Should().Be(expected.Finite, context);
        actual.Max.Should().Be(expected.Max, context);
        double magnitude = MaxAbsFinite(row);
        bool lse = (kinds & RowStatisticKinds.LogSumExp) != 0;
        bool entropy = (kinds & RowStatisticKinds.Entropy) == RowStatisticKinds.Entropy;
        bool moments = (kinds & RowStatisticKinds.Moments) != 0;
        CheckStatistic("log-sum-exp", actual.LogSumExp, lse ? expected.LogSumExp : double.NaN, Math.Max(1, magnitude));
        CheckStatistic("entropy", actual.Entropy, entropy ? expected.Entropy : double.NaN, expected.EntropyScale);
        CheckStatistic("mean", actual.Mean, moments ? expected.Mean : double.NaN, magnitude);
        CheckStatistic("standard deviation", actual.StandardDeviation, moments ? expected.StandardDeviation : double.NaN, magnitude);
        if (entropy && expected.Finite > 0)
        {
            actual.Entropy.Should().BeGreaterThanOrEqualTo(0, $"{context}: entropy is never negative");
        }

        void CheckStatistic(string name, double value, double reference, double scale)
        {
            if (!Tolerance.Close(value, reference, scale))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{context}, {kinds}: {name} expected {reference:R}, got {value:R} (scale {scale:R}, {expected.Finite} finite of {row.Length}).");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void RowMax_matches_reference_and_gives_negative_infinity_for_an_empty_row(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = RandomWithEmptyLastRow(rows, vocab, Seed(rows, vocab) + 20);
            using var x = Create(data, rows, vocab);
            var actual = new float[rows];
            x.Kernels.RowMax(x, actual);
            for (int r = 0; r < rows; r++)
            {
                actual[r].Should().Be(ReferenceKernels.RowMax(LogitData.Row(data, vocab, r), r), $"rows {rows}, row {r}");
            }

            if (rows > 1)
            {
                actual[rows - 1].Should().Be(NegInf);
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void RowStatistics_match_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = RandomWithEmptyLastRow(rows, vocab, Seed(rows, vocab) + 21);
            using var x = Create(data, rows, vocab);
            var actual = new LogitRowStatistics[rows];
            x.Kernels.RowStatistics(x, RowStatisticKinds.All, actual);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertStatistics(actual[r], ReferenceKernels.RowStatistics(row, r), RowStatisticKinds.All, row, $"rows {rows}, row {r}");
            }
        }
    }

    [Theory]
    [InlineData(5, 67)]
    [InlineData(6, 129)]
    [InlineData(3, 4097)]
    [InlineData(64, 4096)]
    public void RowStatistics_compute_what_is_asked_and_give_NaN_for_the_rest(int rows, int vocab)
    {
        var data = RandomWithEmptyLastRow(rows, vocab, Seed(rows, vocab) + 22);
        using var x = Create(data, rows, vocab);
        foreach (var kinds in KindCombinations)
        {
            var actual = new LogitRowStatistics[rows];
            x.Kernels.RowStatistics(x, kinds, actual);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertStatistics(actual[r], ReferenceKernels.RowStatistics(row, r), kinds, row, $"row {r}");
            }

            // The empty row: finite count 0 and maximum -inf, no exception; its log-sum-exp is -inf only when asked for.
            var empty = actual[rows - 1];
            (empty.Finite, empty.Max).Should().Be((0, NegInf), kinds.ToString());
            if ((kinds & RowStatisticKinds.LogSumExp) != 0)
            {
                empty.LogSumExp.Should().Be(double.NegativeInfinity, kinds.ToString());
            }
            else
            {
                double.IsNaN(empty.LogSumExp).Should().BeTrue($"{kinds} does not ask for the log-sum-exp");
            }

            new[] { empty.Entropy, empty.Mean, empty.StandardDeviation }.Should().OnlyContain(v => double.IsNaN(v), kinds.ToString());
        }
    }

    [Fact]
    public void RowStatistics_and_RowMax_of_special_rows_match_reference()
    {
        foreach (var (name, row) in SpecialRows())
        {
            using var x = Create(row, 1, row.Length);
            var max = new float[1];
            x.Kernels.RowMax(x, max);
            max[0].Should().Be(ReferenceKernels.RowMax(row, 0), name);
            foreach (var kinds in KindCombinations)
            {
                var actual = new LogitRowStatistics[1];
                x.Kernels.RowStatistics(x, kinds, actual);
                AssertStatistics(actual[0], ReferenceKernels.RowStatistics(row, 0), kinds, row, name);
            }
        }
    }

    [Fact]
    public void RowStatistics_of_ties_and_single_entries_are_exact_where_the_math_is()
    {
        // Closed forms: k tied finite entries have entropy ln k and deviation 0; one finite entry has entropy 0.
        using var ties = Create(Tiled(new[] { 2.5f, NegInf, 2.5f, 2.5f }, 4097), 1, 4097);
        var statistics = new LogitRowStatistics[1];
        ties.Kernels.RowStatistics(ties, RowStatisticKinds.All, statistics);
        int k = statistics[0].Finite;
        k.Should().Be(3073);
        statistics[0].Entropy.Should().BeApproximately(Math.Log(k), 1e-5);
        statistics[0].LogSumExp.Should().BeApproximately(2.5 + Math.Log(k), 1e-5 * (2.5 + Math.Log(k)));
        statistics[0].Mean.Should().Be(2.5);
        statistics[0].StandardDeviation.Should().Be(0);

        using var single = Create(new[] { NegInf, -4.75f, NegInf }, 1, 3);
        single.Kernels.RowStatistics(single, RowStatisticKinds.All, statistics);
        statistics[0].Should().Be(new LogitRowStatistics(1, -4.75f, -4.75, 0, -4.75, 0));
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskOutside_matches_reference_in_place_and_into_another_batch(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 23);
            var (lower, upper) = BandsFor(data, rows, vocab);
            using var x = Create(data, rows, vocab);

            // A destination full of other values: every entry must be written.
            using var other = Create(LogitData.Random(rows, vocab, Seed(rows, vocab) + 24), rows, vocab);
            x.Kernels.MaskOutside(x, lower, upper, other);
            var copied = other.ToArray();
            Bits(x.ToArray()).Should().Equal(Bits(data), "the source of a copy is not changed");
            x.Kernels.MaskOutside(x, lower, upper, x);
            var inPlace = x.ToArray();
            for (int r = 0; r < rows; r++)
            {
                var expected = Bits(ReferenceKernels.MaskOutside(LogitData.Row(data, vocab, r), lower[r], upper[r]));
                var because = $"rows {rows}, row {r}, band [{lower[r]:R}, {upper[r]:R}]";
                Bits(LogitData.Row(copied, vocab, r)).Should().Equal(expected, because);
                Bits(LogitData.Row(inPlace, vocab, r)).Should().Equal(expected, because);
            }
        }
    }

    /// <summary>
    /// One band per row, rotating over: two values of the row (so ties sit on both bounds), open bounds, a single
    /// value, a reversed band (empties the row), infinite bands that keep nothing, and signed zeros.
    /// </summary>
    private static (float[] Lower, float[] Upper) BandsFor(float[] data, int rows, int vocab)
    {
        var lower = new float[rows];
        var upper = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            float a = data[(r * vocab) + ((r * 13) % vocab)];
            float b = data[(r * vocab) + ((r * 29 + 5) % vocab)];
            (float low, float high) = a <= b ? (a, b) : (b, a);
            (lower[r], upper[r]) = (r % 9) switch
            {
                0 => (low, high),
                1 => (NegInf, high),
                2 => (low, float.PositiveInfinity),
                3 => (NegInf, float.PositiveInfinity),
                4 => (a, a),
                5 => (high, low == high ? MathF.BitDecrement(low) : low),
                6 => (NegInf, NegInf),
                7 => (float.PositiveInfinity, float.PositiveInfinity),
                _ => (-0f, 0f),
            };
        }

        return (lower, upper);
    }

    [Fact]
    public void MaskOutside_of_special_rows_matches_reference_and_keeps_signed_zeros()
    {
        var bands = new (float Lower, float Upper)[]
        {
            (0f, 0f), (-0f, -0f), (0f, -0f), (-1f, 1f), (1f, -1f), (2f, 2f), (-1e30f, 1e30f), (1e30f, float.PositiveInfinity),
            (NegInf, -1e30f), (-float.MaxValue, float.MaxValue), (NegInf, float.PositiveInfinity), (float.PositiveInfinity, NegInf),
        };
        foreach (var (name, row) in SpecialRows())
        {
            foreach (var (low, high) in bands)
            {
                using var x = Create(row, 1, row.Length);
                using var destination = x.CreateLike();
                x.Kernels.MaskOutside(x, new[] { low }, new[] { high }, destination);
                Bits(destination.ToArray()).Should().Equal(Bits(ReferenceKernels.MaskOutside(row, low, high)), $"{name}, band [{low:R}, {high:R}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void LargestValues_match_reference_with_negative_infinity_padding(int vocab)
    {
        // 40 exceeds the finite count of the single-entry and -inf-heavy rows; V keeps everything; the last row is empty.
        var counts = new[] { 1, 40, vocab, (vocab / 2) + 1 }.Select(c => Math.Clamp(c, 1, vocab)).Distinct();
        foreach (int rows in RowsFor(vocab))
        {
            var data = RandomWithEmptyLastRow(rows, vocab, Seed(rows, vocab) + 25);
            using var x = Create(data, rows, vocab);
            foreach (int count in counts)
            {
                if (vocab >= 32000 && count > 4096 && rows > 3)
                {
                    continue; // the full-sort references of 64 large rows take long and add no new case
                }

                var actual = new float[rows * count];
                x.Kernels.LargestValues(x, count, actual);
                for (int r = 0; r < rows; r++)
                {
                    var expected = ReferenceKernels.LargestValues(LogitData.Row(data, vocab, r), count);
                    actual.AsSpan(r * count, count).ToArray().Should().Equal(expected, $"rows {rows}, row {r}, count {count}");
                }
            }
        }
    }

    [Fact]
    public void LargestValues_of_special_rows_match_reference()
    {
        foreach (var (name, row) in SpecialRows())
        {
            using var x = Create(row, 1, row.Length);
            foreach (int count in new[] { 1, 2, 3, 40, row.Length }.Where(c => c <= row.Length).Distinct())
            {
                var actual = new float[count];
                x.Kernels.LargestValues(x, count, actual);
                actual.Should().Equal(ReferenceKernels.LargestValues(row, count), $"{name}, count {count}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void TypicalBand_matches_reference(int vocab)
    {
        double[] masses = { 0.2, 0.5, 0.9, 0.95, 1.0, 0.999, 0.05 };
        // Fewer settings at large vocabularies: the full-sort reference of 64 rows of 262144 takes seconds per setting.
        var settings = vocab < 4095
            ? new[] { (false, 1), (true, 1), (false, 3), (true, 3), (false, vocab + 5), (true, 2) }
            : vocab < 32000
                ? new[] { (false, 1), (true, 3) }
                : new[] { RowsFor(vocab).Max() > 3 ? (false, 1) : (true, 3) };
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 26);
            var mass = Enumerable.Range(0, rows).Select(r => masses[r % masses.Length]).ToArray();
            using var x = Create(data, rows, vocab);
            foreach (var (strict, minKeep) in settings)
            {
                var lower = new float[rows];
                var upper = new float[rows];
                x.Kernels.TypicalBand(x, mass, minKeep, strict, lower, upper);
                for (int r = 0; r < rows; r++)
                {
                    var expected = ReferenceKernels.TypicalBand(LogitData.Row(data, vocab, r), r, mass[r], minKeep, strict);
                    if (AssertTypicalBand(lower[r], upper[r], expected, $"rows {rows}, row {r}, mass {mass[r]}, strict {strict}, minKeep {minKeep}")
                        && mass[r] < 1)
                    {
                        compared++;
                    }
                }
            }
        }

        compared.Should().BePositive("some rows must be far enough from a decision boundary to compare");
    }

    /// <summary>
    /// Compares a band with the reference unless the reference's decisions sit within rounding distance of a boundary:
    /// the mass within 1e-5 of the target (the policy of the top-p tests), or another value's score within 1e-5 of the
    /// entropy scale of the cut (scores carry the entropy's and log-sum-exp's absolute error). Returns whether it compared.
    /// </summary>
    private static bool AssertTypicalBand(float lower, float upper, ReferenceKernels.TypicalResult expected, string context)
    {
        (lower <= upper).Should().BeTrue($"{context}: a typical set is never empty (band [{lower:R}, {upper:R}])");
        if (expected.MassMargin <= 1e-5 || expected.ScoreMargin <= 1e-5 * expected.ScoreScale)
        {
            return false;
        }

        (lower, upper).Should().Be((expected.Lower, expected.Upper), context);
        return true;
    }

    [Fact]
    public void TypicalBand_of_special_rows_matches_reference()
    {
        int compared = 0;
        foreach (var (name, row) in SpecialRows())
        {
            using var x = Create(row, 1, row.Length);
            if (row.All(float.IsNegativeInfinity))
            {
                continue; // the error case, tested below
            }

            foreach (double mass in new[] { 0.05, 0.2, 0.5, 0.8, 0.95, 1.0 })
            {
                foreach (bool strict in new[] { false, true })
                {
                    foreach (int minKeep in new[] { 1, 2, row.Length + 5 })
                    {
                        var lower = new float[1];
                        var upper = new float[1];
                        x.Kernels.TypicalBand(x, new[] { mass }, minKeep, strict, lower, upper);
                        var expected = ReferenceKernels.TypicalBand(row, 0, mass, minKeep, strict);
                        if (AssertTypicalBand(lower[0], upper[0], expected, $"{name}, mass {mass}, strict {strict}, minKeep {minKeep}"))
                        {
                            compared++;
                        }
                    }
                }
            }
        }

        compared.Should().BeGreaterThan(500, "special rows are far from rounding boundaries except by design");
    }

    [Fact]
    public void TypicalBand_reproduces_the_worked_example_and_its_edges()
    {
        // docs/algorithms/truncation.md#typical on B = [3, 2, 1, 0.5, 0, -1, -inf]: the confident top token is
        // atypical, mass 0.2 keeps token 1 only, 0.5 keeps {0, 1}.
        using var x = Create(SpecialPatterns[0], 1, 7);
        var lower = new float[1];
        var upper = new float[1];
        x.Kernels.TypicalBand(x, new[] { 0.2 }, 1, false, lower, upper);
        (lower[0], upper[0]).Should().Be((2f, 2f));
        x.Kernels.TypicalBand(x, new[] { 0.5 }, 1, true, lower, upper);
        (lower[0], upper[0]).Should().Be((2f, 3f));

        // Mass 1 keeps everything, whatever minTokensToKeep says.
        x.Kernels.TypicalBand(x, new[] { 1.0 }, 3, true, lower, upper);
        (lower[0], upper[0]).Should().Be((NegInf, float.PositiveInfinity));

        // minTokensToKeep beyond |F| = 6 keeps every finite token: the band spans the finite values.
        x.Kernels.TypicalBand(x, new[] { 0.2 }, 100, false, lower, upper);
        (lower[0], upper[0]).Should().Be((-1f, 3f));
        x.Kernels.TypicalBand(x, new[] { 0.9 }, int.MaxValue, true, lower, upper);
        (lower[0], upper[0]).Should().Be((-1f, 3f));

        // minTokensToKeep counts in typicality order (scores 0.355, 0.645, 1.355 for tokens 1, 0, 2): mass 0.05 stops at
        // token 1, and 3 adds tokens 0 and 2, not the two next values below 2.
        x.Kernels.TypicalBand(x, new[] { 0.05 }, 3, false, lower, upper);
        (lower[0], upper[0]).Should().Be((1f, 3f));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(4097)]
    public void TypicalBand_strict_and_inclusive_differ_exactly_when_the_mass_is_reached(int vocab)
    {
        // The rules differ only when an accumulated mass equals the target, which no test can predict bit for bit across
        // backends. So find each backend's own accumulated mass C: the largest target at which the inclusive rule still
        // stops at n tokens (the band is monotone in the target, so bisect the bits of positive doubles). Then at C the
        // inclusive rule stops (C ≥ C) and the strict one takes the next token (C > C is false); just below C both stop.
        // B typical order: token 1 (p 0.2225, band [2, 2]), token 0 (0.6048, [2, 3]), token 2 (0.0819, [1, 3]).
        var row = Tiled(SpecialPatterns[0], vocab).Select((v, i) => i < 7 ? v : NegInf).ToArray();
        using var x = Create(row, 1, vocab);
        var steps = new[] { (Mass: 0.222498, Band: (2f, 2f), Next: (2f, 3f)), (Mass: 0.222498 + 0.604813, Band: (2f, 3f), Next: (1f, 3f)) };
        foreach (var (referenceMass, band, next) in steps)
        {
            long low = BitConverter.DoubleToInt64Bits(referenceMass - 1e-4);
            long high = BitConverter.DoubleToInt64Bits(referenceMass + 1e-4);
            Band(BitConverter.Int64BitsToDouble(low), strict: false).Should().Be(band);
            Band(BitConverter.Int64BitsToDouble(high), strict: false).Should().Be(next);
            while (high - low > 1)
            {
                long middle = low + ((high - low) / 2);
                if (Band(BitConverter.Int64BitsToDouble(middle), strict: false) == band)
                {
                    low = middle;
                }
                else
                {
                    high = middle;
                }
            }

            double reached = BitConverter.Int64BitsToDouble(low);
            reached.Should().BeApproximately(referenceMass, 2e-6, "the accumulated mass is the documented one");
            Band(reached, strict: false).Should().Be(band, "the inclusive rule stops when the mass reaches the target");
            Band(reached, strict: true).Should().Be(next, "the strict rule needs the mass to exceed the target");
            Band(Math.BitDecrement(reached), strict: true).Should().Be(band, "below the target both rules stop");
        }

        (float, float) Band(double mass, bool strict)
        {
            var lower = new float[1];
            var upper = new float[1];
            x.Kernels.TypicalBand(x, new[] { mass }, 1, strict, lower, upper);
            return (lower[0], upper[0]);
        }
    }

    [Fact]
    public void TypicalBand_reports_the_first_empty_row_and_the_statistics_kernels_do_not()
    {
        foreach (var (rows, vocab) in new[] { (6, 9), (64, 4097) })
        {
            var data = LogitData.Random(rows, vocab, rows + vocab);
            Array.Fill(data, NegInf, 3 * vocab, vocab);
            Array.Fill(data, NegInf, 5 * vocab, vocab);
            using var x = Create(data, rows, vocab);
            var mass = Filled(rows, 0.9);
            foreach (double m in new[] { 0.9, 1.0 })
            {
                Array.Fill(mass, m);
                var error = FluentActions.Invoking(() => x.Kernels.TypicalBand(x, mass, 1, false, new float[rows], new float[rows]))
                    .Should().Throw<NoViableTokenException>().Which;
                (error.Row, error.Stage).Should().Be((3, "typical"), $"mass {m}");
                error.Message.Should().Contain("3");
            }

            var maxima = new float[rows];
            x.Kernels.RowMax(x, maxima);
            (maxima[3], maxima[5]).Should().Be((NegInf, NegInf));
            var statistics = new LogitRowStatistics[rows];
            x.Kernels.RowStatistics(x, RowStatisticKinds.All, statistics);
            (statistics[3].Finite, statistics[5].Finite).Should().Be((0, 0));
            var largest = new float[rows * 2];
            x.Kernels.LargestValues(x, 2, largest);
            largest.AsSpan(3 * 2, 2).ToArray().Should().Equal(NegInf, NegInf);
            using var masked = x.CreateLike();
            x.Kernels.MaskOutside(x, Filled(rows, -1f), Filled(rows, 1f), masked);
            LogitData.Row(masked.ToArray(), vocab, 5).Should().OnlyContain(v => float.IsNegativeInfinity(v));
        }
    }

    [Theory]
    [InlineData(3, 300)]
    [InlineData(4, 9000)]
    [InlineData(64, 4097)]
    public void The_new_kernels_match_reference_inside_a_pipeline_call_after_a_narrowing_mask(int rows, int vocab)
    {
        // Inside a pipeline call a backend may remember facts about rows (the CPU backend keeps the ids a mask kept
        // and the row maxima); the results must be the same as on a fresh batch.
        var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 27);
        var k = Filled(rows, Math.Min(50, vocab));
        var masked = new float[rows * vocab];
        using var x = Create(data, rows, vocab);
        x.EnterPipelineCall();
        try
        {
            var thresholds = new float[rows];
            x.Kernels.KthLargest(x, k, thresholds);
            x.Kernels.MaskBelow(x, thresholds, x);
            for (int r = 0; r < rows; r++)
            {
                ReferenceKernels.MaskBelow(LogitData.Row(data, vocab, r), thresholds[r]).CopyTo(masked, r * vocab);
            }

            var maxima = new float[rows];
            x.Kernels.RowMax(x, maxima);
            var statistics = new LogitRowStatistics[rows];
            x.Kernels.RowStatistics(x, RowStatisticKinds.All, statistics);
            var largest = new float[rows * 60];
            x.Kernels.LargestValues(x, 60, largest);
            var mass = Filled(rows, 0.9);
            var lower = new float[rows];
            var upper = new float[rows];
            x.Kernels.TypicalBand(x, mass, 1, false, lower, upper);
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(masked, vocab, r);
                maxima[r].Should().Be(ReferenceKernels.RowMax(row, r), $"row {r}");
                AssertStatistics(statistics[r], ReferenceKernels.RowStatistics(row, r), RowStatisticKinds.All, row, $"row {r}");
                largest.AsSpan(r * 60, 60).ToArray().Should().Equal(ReferenceKernels.LargestValues(row, 60), $"row {r}");
                AssertTypicalBand(lower[r], upper[r], ReferenceKernels.TypicalBand(row, r, 0.9, 1, false), $"row {r}");
            }

            x.Kernels.MaskOutside(x, lower, upper, x);
            var banded = x.ToArray();
            for (int r = 0; r < rows; r++)
            {
                Bits(LogitData.Row(banded, vocab, r)).Should().Equal(Bits(ReferenceKernels.MaskOutside(LogitData.Row(masked, vocab, r), lower[r], upper[r])), $"row {r}");
            }

            // After the band mask the remembered maxima must not outlive the entries they came from.
            x.Kernels.RowMax(x, maxima);
            for (int r = 0; r < rows; r++)
            {
                maxima[r].Should().Be(ReferenceKernels.RowMax(LogitData.Row(banded, vocab, r), r), $"row {r} after the band mask");
            }
        }
        finally
        {
            x.ExitPipelineCall();
        }
    }

    [Fact]
    public void The_new_kernels_name_the_invalid_parameter()
    {
        using var x = Create(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        var k = x.Kernels;
        ParamNameOf(() => k.MaskOutside(x, new[] { 0f, float.NaN }, new[] { 1f, 1f }, x)).Should().Be("lower");
        ParamNameOf(() => k.MaskOutside(x, new[] { 0f, 0f }, new[] { float.NaN, 1f }, x)).Should().Be("upper");
        ParamNameOf(() => k.LargestValues(x, 0, Array.Empty<float>())).Should().Be("count");
        ParamNameOf(() => k.LargestValues(x, -1, new float[2])).Should().Be("count");
        ParamNameOf(() => k.LargestValues(x, 4, new float[8])).Should().Be("count");
        ParamNameOf(() => k.RowStatistics(x, (RowStatisticKinds)8, new LogitRowStatistics[2])).Should().Be("kinds");
        ParamNameOf(() => k.RowStatistics(x, (RowStatisticKinds)(-1), new LogitRowStatistics[2])).Should().Be("kinds");

        // Bit 2 alone is half of Entropy (which includes LogSumExp), not a combination of defined flags.
        ParamNameOf(() => k.RowStatistics(x, (RowStatisticKinds)2, new LogitRowStatistics[2])).Should().Be("kinds");
        ParamNameOf(() => k.RowStatistics(x, (RowStatisticKinds)6, new LogitRowStatistics[2])).Should().Be("kinds");
        foreach (double bad in new[] { 0.0, -0.0, -0.5, 1.0000001, 2.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            ParamNameOf(() => k.TypicalBand(x, new[] { 0.5, bad }, 1, false, new float[2], new float[2])).Should().Be("mass", $"mass {bad}");
        }

        ParamNameOf(() => k.TypicalBand(x, new[] { 0.5, 0.5 }, 0, false, new float[2], new float[2])).Should().Be("minTokensToKeep");
        ParamNameOf(() => k.TypicalBand(x, new[] { 0.5, 0.5 }, -3, true, new float[2], new float[2])).Should().Be("minTokensToKeep");
    }

    [Fact]
    public void The_new_kernels_reject_wrong_lengths_and_shapes()
    {
        using var x = Create(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        using var other = Create(new[] { 1f, 2f, 3f }, 1, 3);
        using var wider = Create(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 1, 6);
        var k = x.Kernels;
        ArgumentErrorOf(() => k.RowMax(x, new float[1])).Should().Be("destination");
        ArgumentErrorOf(() => k.RowMax(x, new float[3])).Should().Be("destination");
        ArgumentErrorOf(() => k.RowStatistics(x, RowStatisticKinds.All, new LogitRowStatistics[1])).Should().Be("destination");
        ArgumentErrorOf(() => k.MaskOutside(x, new float[1], new float[2], x)).Should().Be("lower");
        ArgumentErrorOf(() => k.MaskOutside(x, new float[2], new float[3], x)).Should().Be("upper");
        ArgumentErrorOf(() => k.MaskOutside(x, new float[2], new float[2], other)).Should().Be("destination");
        ArgumentErrorOf(() => k.MaskOutside(x, new float[2], new float[2], wider)).Should().Be("destination");
        ArgumentErrorOf(() => k.LargestValues(x, 2, new float[3])).Should().Be("destination");
        ArgumentErrorOf(() => k.LargestValues(x, 2, new float[5])).Should().Be("destination");
        ArgumentErrorOf(() => k.TypicalBand(x, new[] { 0.5 }, 1, false, new float[2], new float[2])).Should().Be("mass");
        ArgumentErrorOf(() => k.TypicalBand(x, new[] { 0.5, 0.5 }, 1, false, new float[1], new float[2])).Should().Be("lower");
        ArgumentErrorOf(() => k.TypicalBand(x, new[] { 0.5, 0.5 }, 1, false, new float[2], new float[3])).Should().Be("upper");
        using var foreign = new ForeignBatch();
        ArgumentErrorOf(() => k.RowMax(foreign, new float[1])).Should().Be("x");
        ArgumentErrorOf(() => k.MaskOutside(x, new float[2], new float[2], foreign)).Should().Be("destination");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Tensors.Cpu;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The CPU top-p cut (value histogram of exp mass, exact refinement of the straddling bin, and the peaked-row window)
/// against a float64 full-sort reference, over the four input distributions of the benchmark suite, vector-width edges,
/// ties, −∞ entries, every kind of P and two <c>minTokensToKeep</c>.
/// </summary>
/// <remarks>
/// Boundary policy: where the reference's running mass passes within 1e-6 of the target at the decisive step (float32
/// probabilities cannot decide such a case), the kernel's cut must still be a valid cut within that tolerance: the mass
/// it keeps reaches the target less 2e-6, and without its lowest tie group it stays below the target plus 2e-6.
/// Everywhere else the threshold must equal the reference's exactly.
/// </remarks>
public sealed class TopPMassCutTests
{
    private static readonly double[] Ps = { 0, 1e-9, 1e-6, 0.5, 0.9, 0.95, 0.999, 1 };

    public enum Distribution
    {
        /// <summary>N(0, 2.5²) plus 20 tokens at 12 + 4u.</summary>
        Peaked,

        /// <summary>N(0, 1).</summary>
        Gaussian1,

        /// <summary>N(0, 3²).</summary>
        Gaussian3,

        /// <summary>−1.1·ln(rank) over randomly permuted ranks plus N(0, 0.3²).</summary>
        Zipf,
    }

    public static IEnumerable<object[]> Cases()
    {
        var lengths = Enumerable.Range(1, 70).Concat(new[] { 127, 128, 129, 1000, 4095, 4097, 8192, 32000 });
        foreach (var distribution in Enum.GetValues<Distribution>())
        {
            foreach (int length in lengths)
            {
                yield return new object[] { distribution, length };
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TopPThresholdRow_matches_the_full_sort_reference(Distribution distribution, int length)
    {
        int exact = 0;
        for (int variant = 0; variant < 4; variant++)
        {
            // Variant 0: plain; 1: ties (values rounded to quarters); 2: ~10 % −∞; 3: ties and −∞.
            var row = Row(distribution, length, seed: (length * 31) + (variant * 7) + (int)distribution, ties: variant % 2 == 1, removed: variant >= 2);
            if (row.All(float.IsNegativeInfinity))
            {
                continue;
            }

            foreach (double p in Ps)
            {
                foreach (int minKeep in new[] { 1, 3 })
                {
                    float actual = CpuKernels.TopPThresholdRow(row, p, minKeep, 0);
                    var (expected, margin) = ReferenceKernels.TopPThreshold(row, 0, p, minKeep);
                    string because = $"{distribution}, V {length}, variant {variant}, p {p}, minKeep {minKeep}";
                    if (margin > 1e-6 || p >= 1)
                    {
                        actual.Should().Be(expected, because);
                        exact++;
                    }
                    else
                    {
                        IsValidCutWithinTolerance(row, actual, p, minKeep).Should().BeTrue(because);
                    }
                }
            }
        }

        exact.Should().BePositive("some cases must be far enough from a boundary to compare exactly");
    }

    [Fact]
    public void Large_vocabularies_match_the_reference_on_every_distribution()
    {
        // 128256: the histogram's far-token skip and (peaked rows) the window path on a real vocabulary size.
        foreach (var distribution in Enum.GetValues<Distribution>())
        {
            var row = Row(distribution, 128256, seed: 5 + (int)distribution, ties: false, removed: false);
            foreach (double p in new[] { 0.5, 0.9, 0.95 })
            {
                float actual = CpuKernels.TopPThresholdRow(row, p, 1, 0);
                var (expected, margin) = ReferenceKernels.TopPThreshold(row, 0, p, 1);
                if (margin > 1e-6)
                {
                    actual.Should().Be(expected, $"{distribution}, p {p}");
                }
                else
                {
                    IsValidCutWithinTolerance(row, actual, p, 1).Should().BeTrue($"{distribution}, p {p}");
                }
            }
        }
    }

    [Fact]
    public void Rows_that_look_peaked_to_the_sample_but_are_not_fall_back_to_the_histogram()
    {
        // A flat bulk at −10 (small enough for the sample's guess) whose tie group still holds 43 % of the mass: the
        // tokens above the sample's top hold too little, so the histogram decides.
        var shortfall = Enumerable.Repeat(-10f, 16384).ToArray();
        shortfall[1001] = 0f;

        // 3000 tokens at −1 between the sampled positions: more than the window path collects.
        var overflow = Enumerable.Repeat(-20f, 16384).ToArray();
        overflow[1001] = 0f;
        for (int i = 0, placed = 0; placed < 3000; i++)
        {
            if (i % 64 != 0 && i != 1001)
            {
                overflow[i] = -1f;
                placed++;
            }
        }

        foreach (var row in new[] { shortfall, overflow })
        {
            foreach (double p in new[] { 0.3, 0.9, 0.99 })
            {
                // Whole tie groups decide here, each far from every target: the reference's value is the only answer.
                var (expected, _) = ReferenceKernels.TopPThreshold(row, 0, p, 1);
                CpuKernels.TopPThresholdRow(row, p, 1, 0).Should().Be(expected, $"p {p}");
            }
        }
    }

    [Fact]
    public void A_row_of_one_value_keeps_the_whole_tie_group()
    {
        foreach (int length in new[] { 1, 17, 4096, 20000 })
        {
            var row = Enumerable.Repeat(0.25f, length).ToArray();
            foreach (double p in new[] { 0.0, 0.5, 0.9 })
            {
                CpuKernels.TopPThresholdRow(row, p, 1, 0).Should().Be(0.25f, $"V {length}, p {p}");
            }
        }
    }

    /// <summary>Whether <paramref name="threshold"/> is a cut the 1e-6 boundary policy allows (see the class remarks).</summary>
    private static bool IsValidCutWithinTolerance(float[] row, float threshold, double p, int minKeep)
    {
        var finite = row.Where(v => !float.IsNegativeInfinity(v)).OrderByDescending(v => v).ToArray();
        if (!finite.Contains(threshold))
        {
            return false;
        }

        double max = finite[0];
        double total = finite.Sum(v => Math.Exp(v - max));
        double kept = finite.Where(v => v >= threshold).Sum(v => Math.Exp(v - max)) / total;
        double keptAbove = finite.Where(v => v > threshold).Sum(v => Math.Exp(v - max)) / total;
        int keptCount = finite.Count(v => v >= threshold);
        int keptAboveCount = finite.Count(v => v > threshold);
        double target = p - 1e-6;
        bool reaches = kept >= target - 2e-6;
        bool minimal = keptAbove < target + 2e-6 || keptAboveCount < Math.Min(minKeep, finite.Length);
        return reaches && minimal && keptCount >= Math.Min(minKeep, finite.Length);
    }

    private static float[] Row(Distribution distribution, int length, int seed, bool ties, bool removed)
    {
        var rng = new Random(seed);
        var row = new float[length];
        int[] ranks = Enumerable.Range(1, length).OrderBy(_ => rng.Next()).ToArray();
        for (int i = 0; i < length; i++)
        {
            double g = Normal(rng);
            row[i] = distribution switch
            {
                Distribution.Peaked => (float)(2.5 * g),
                Distribution.Gaussian1 => (float)g,
                Distribution.Gaussian3 => (float)(3 * g),
                _ => (float)((-1.1 * Math.Log(ranks[i])) + (0.3 * g)),
            };
        }

        if (distribution == Distribution.Peaked)
        {
            for (int j = 0; j < Math.Min(20, length); j++)
            {
                row[rng.Next(length)] = (float)(12 + (4 * rng.NextDouble()));
            }
        }

        for (int i = 0; i < length; i++)
        {
            if (ties)
            {
                row[i] = MathF.Round(row[i] * 4) / 4;
            }

            if (removed && rng.NextDouble() < 0.1)
            {
                row[i] = float.NegativeInfinity;
            }
        }

        return row;
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

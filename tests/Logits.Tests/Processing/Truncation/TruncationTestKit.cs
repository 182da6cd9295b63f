using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>Shared inputs and assertions of the typical / epsilon / eta / top-nσ / XTC / dynamic-temperature / mirostat tests.</summary>
public static class TruncationTestKit
{
    /// <summary>Base row B of docs/algorithms/truncation.md: p = [0.604813, 0.222498, 0.081853, 0.049646, 0.030112, 0.011078, 0].</summary>
    public static float[] B => new[] { 3f, 2f, 1f, 0.5f, 0f, -1f, float.NegativeInfinity };

    /// <summary>Vocabulary sizes: 1..67, 127..129, 4095..4097 and 32000.</summary>
    public static TheoryData<int> Vocabs()
    {
        var data = new TheoryData<int>();
        foreach (int v in Enumerable.Range(1, 67).Concat(new[] { 127, 128, 129, 4095, 4096, 4097, 32000, 262144 }))
        {
            data.Add(v);
        }

        return data;
    }

    /// <summary>Row counts for a vocabulary size: 1..4 for small ones, 1 and 3 for the large ones.</summary>
    public static int[] RowsFor(int vocab) => vocab >= 4095 ? new[] { 1, 3 } : new[] { 1, 2, 3, 4 };

    public static int Seed(int rows, int vocab, int salt) => unchecked((vocab * 7919) + (rows * 104729) + (salt * 31));

    /// <summary>Runs <paramref name="processor"/> on a fresh batch and returns the result.</summary>
    public static float[] Run(Func<float[], int, int, LogitBatch> create, ILogitProcessor processor, float[] values, int rows, int vocab)
    {
        using var batch = create(values, rows, vocab);
        processor.Process(batch, SamplingContext.ForRows(rows));
        return batch.ToArray();
    }

    /// <summary>Runs on one row.</summary>
    public static float[] Run(Func<float[], int, int, LogitBatch> create, ILogitProcessor processor, float[] row) =>
        Run(create, processor, row, 1, row.Length);

    /// <summary>The ids of the finite entries.</summary>
    public static int[] Kept(float[] row) => ReferenceTruncation.Finite(row);

    /// <summary>Kept entries keep their value exactly; removed ones are -inf.</summary>
    public static void AssertKeptSet(float[] input, float[] output, IEnumerable<int> kept, string what)
    {
        var set = new HashSet<int>(kept);
        for (int i = 0; i < input.Length; i++)
        {
            float expected = set.Contains(i) ? input[i] : float.NegativeInfinity;
            if (!output[i].Equals(expected))
            {
                throw new Xunit.Sdk.XunitException($"{what}: token {i}: expected {expected:R}, got {output[i]:R}.");
            }
        }
    }

    /// <summary>
    /// Checks the threshold rule "keep z ≥ min(τ, m_keep-th largest)" against a float64 reference <paramref name="threshold"/>.
    /// Tokens within float32 rounding of τ may go either way; every other decision must match, kept values are
    /// unchanged, filtered tokens stay -inf, and at least min(m_keep, |F|) tokens survive.
    /// </summary>
    public static void AssertThresholdRule(float[] input, float[] output, double threshold, int minTokensToKeep, string what)
    {
        double kth = ReferenceTruncation.KthLargestFinite(input, Math.Min(minTokensToKeep, input.Length));
        double effective = Math.Min(threshold, kth);
        double scale = input.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();
        double tolerance = 2e-5 * Math.Max(1, scale);
        for (int i = 0; i < input.Length; i++)
        {
            if (float.IsNegativeInfinity(input[i]))
            {
                float.IsNegativeInfinity(output[i]).Should().BeTrue($"{what}: token {i} was filtered and must stay -inf");
                continue;
            }

            bool fragile = Math.Abs(input[i] - threshold) <= tolerance;
            if (fragile)
            {
                (output[i].Equals(input[i]) || float.IsNegativeInfinity(output[i])).Should().BeTrue($"{what}: token {i} is kept unchanged or removed");
                continue;
            }

            float expected = input[i] >= effective ? input[i] : float.NegativeInfinity;
            if (!output[i].Equals(expected))
            {
                throw new Xunit.Sdk.XunitException($"{what}: token {i} ({input[i]:R}) expected {expected:R}, got {output[i]:R} (threshold {threshold:R}, m_keep {minTokensToKeep}).");
            }
        }

        Kept(output).Length.Should().BeGreaterThanOrEqualTo(Math.Min(minTokensToKeep, Kept(input).Length), what);
    }

    /// <summary>A batch whose second row is all -inf: that row passes through unchanged, the first is processed.</summary>
    public static void AssertEmptyRowPassesThrough(Func<float[], int, int, LogitBatch> create, ILogitProcessor processor)
    {
        var empty = Enumerable.Repeat(float.NegativeInfinity, 7).ToArray();
        var values = B.Concat(empty).ToArray();
        var output = Run(create, processor, values, 2, 7);
        output.Skip(7).Should().Equal(empty);
        Kept(output.Take(7).ToArray()).Should().NotBeEmpty();
    }

    /// <summary>Assertion helper for ArgumentOutOfRangeException with the right parameter name.</summary>
    public static void ShouldThrowOutOfRange(Action create, string paramName) =>
        create.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(paramName);
}

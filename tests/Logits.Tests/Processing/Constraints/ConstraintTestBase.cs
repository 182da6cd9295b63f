using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>
/// Shared helpers of the constraint and guidance processor tests: each backend's subclass says how to build a
/// batch; the test bodies are the same for every backend.
/// </summary>
public abstract class ConstraintTestBase
{
    /// <summary>Base row <c>B</c> of docs/algorithms/constraints.md.</summary>
    protected static readonly float[] B = { 3.0f, 2.0f, 1.0f, 0.5f, 0.0f, -1.0f, float.NegativeInfinity };

    /// <summary>Shorthand for <c>-∞</c>.</summary>
    protected const float NegInf = float.NegativeInfinity;

    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    /// <summary>Vocabulary sizes of the reference comparisons: 1..67, 127..129, 4095..4097 and 32000.</summary>
    public static TheoryData<int> VocabCases()
    {
        var data = new TheoryData<int>();
        foreach (int vocab in Enumerable.Range(1, 67).Concat(new[] { 127, 128, 129, 4095, 4096, 4097, 32000, 262144 }))
        {
            data.Add(vocab);
        }

        return data;
    }

    /// <summary>Row counts used per vocabulary size.</summary>
    protected static IEnumerable<int> RowsFor(int vocab) => vocab >= 32000 ? new[] { 2 } : new[] { 1, 3 };

    /// <summary>A seed from the shape and a salt.</summary>
    protected static int Seed(int rows, int vocab, int salt) => unchecked((vocab * 7919) + (rows * 104729) + (salt * 31));

    /// <summary>One context per row with the given histories, prompt lengths and end-of-sequence ids.</summary>
    protected static SamplingContext[] Contexts(int[][] histories, int[] promptLengths, int[]? eos = null)
    {
        var contexts = new SamplingContext[histories.Length];
        for (int r = 0; r < histories.Length; r++)
        {
            contexts[r] = new SamplingContext(r, eos).SetHistory(histories[r], promptLengths[r]);
        }

        return contexts;
    }

    /// <summary>One context per row, each with the same history and end-of-sequence ids.</summary>
    protected static SamplingContext[] Contexts(int rows, int[] history, int promptLength = 0, int[]? eos = null) =>
        Contexts(Enumerable.Repeat(history, rows).ToArray(), Enumerable.Repeat(promptLength, rows).ToArray(), eos);

    /// <summary>Runs <paramref name="processor"/> on a batch built from <paramref name="data"/> and returns the result.</summary>
    protected float[] Run(ILogitProcessor processor, float[] data, int rows, int vocab, IReadOnlyList<SamplingContext> contexts)
    {
        using var batch = Create(data, rows, vocab);
        processor.Process(batch, contexts);
        return batch.ToArray();
    }

    /// <summary>Runs on one row with one history.</summary>
    protected float[] RunRow(ILogitProcessor processor, float[] row, int[]? history = null, int promptLength = 0, int[]? eos = null) =>
        Run(processor, row, 1, row.Length, Contexts(1, history ?? Array.Empty<int>(), promptLength, eos));

    /// <summary>Asserts every value matches (equal infinities, else relative 1e-5 with an optional scale).</summary>
    protected static void AssertClose(float[] actual, double[] expected, string what, double scale = 0)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Tolerance.Close(actual[i], expected[i], scale))
            {
                throw new Xunit.Sdk.XunitException($"{what}: index {i}: expected {expected[i]:R}, got {actual[i]:R} (scale {scale:R}).");
            }
        }
    }

    /// <summary>Asserts one row of a row-major result against a reference row.</summary>
    protected static void AssertRow(float[] actual, int vocab, int row, double[] expected, string what, double scale = 0) =>
        AssertClose(LogitData.Row(actual, vocab, row), expected, $"{what} (row {row}, vocab {vocab})", scale);

    /// <summary>Asserts that an all -inf row (next to a normal one) passes through unchanged.</summary>
    protected void AssertEmptyRowPassesThrough(ILogitProcessor processor, int vocab, IReadOnlyList<SamplingContext> contexts)
    {
        var data = new float[2 * vocab];
        for (int i = 0; i < vocab; i++)
        {
            data[i] = NegInf;
            data[vocab + i] = i * 0.25f;
        }

        var result = Run(processor, data, 2, vocab, contexts);
        LogitData.Row(result, vocab, 0).Should().OnlyContain(v => float.IsNegativeInfinity(v));
    }

    /// <summary>Random history of <paramref name="length"/> ids drawn from <c>[0, alphabet)</c>.</summary>
    protected static int[] RandomHistory(Random rng, int length, int alphabet) =>
        Enumerable.Range(0, length).Select(_ => rng.Next(alphabet)).ToArray();

    /// <summary>The largest finite magnitude of a row (at least 1), the scale of log-domain results.</summary>
    protected static double LogScale(float[] row) =>
        Math.Max(1, row.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max());
}

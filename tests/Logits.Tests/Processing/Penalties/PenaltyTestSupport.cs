using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Penalties;

/// <summary>Shared data and assertions of the penalty tests (docs/algorithms/penalties.md).</summary>
public static class PenaltyTestSupport
{
    /// <summary>The row of the worked examples.</summary>
    public static float[] SpecRow => new[] { 2.0f, -1.0f, 0.5f, 0.0f, 1.0f };

    /// <summary>The history of the worked examples.</summary>
    public static int[] SpecHistory => new[] { 0, 1, 1, 3 };

    /// <summary>One context per history, with the given prompt lengths (default 0).</summary>
    public static SamplingContext[] Contexts(IReadOnlyList<int[]> histories, IReadOnlyList<int>? promptLengths = null)
    {
        var contexts = SamplingContext.ForRows(histories.Count);
        for (int r = 0; r < histories.Count; r++)
        {
            contexts[r].SetHistory(histories[r], promptLengths?[r] ?? 0);
        }

        return contexts;
    }

    /// <summary>A single-row context.</summary>
    public static SamplingContext[] Context(int[] history, int promptLength = 0) => Contexts(new[] { history }, new[] { promptLength });

    /// <summary>Vocabulary sizes: 1..67, 127..129, 4095..4097 and 32000.</summary>
    public static TheoryData<int> VocabCases()
    {
        var data = new TheoryData<int>();
        foreach (int vocab in LogitData.Vocabs.Where(v => v <= 32000 || v == 262144))
        {
            data.Add(vocab);
        }

        return data;
    }

    /// <summary>Row counts per vocabulary: 1, 2 and 5 rows; 1 and 3 rows for 32000.</summary>
    public static IEnumerable<int> RowsFor(int vocab) => vocab >= 32000 ? new[] { 1, 3 } : new[] { 1, 2, 5 };

    /// <summary>
    /// A random history: up to <paramref name="maxLength"/> ids, drawn either from a small alphabet (so tokens
    /// repeat and long matches occur) or uniformly from the vocabulary, with about 10% padding (-1).
    /// </summary>
    public static int[] RandomHistory(Random rng, int vocab, int maxLength)
    {
        int length = rng.Next(maxLength + 1);
        int alphabetSize = rng.Next(1, Math.Min(vocab, 6) + 1);
        var alphabet = Enumerable.Range(0, alphabetSize).Select(i => i == 0 ? vocab - 1 : rng.Next(vocab)).ToArray();
        bool small = rng.Next(3) != 0;
        var history = new int[length];
        for (int i = 0; i < length; i++)
        {
            history[i] = rng.NextDouble() < 0.1 ? -1 : small ? alphabet[rng.Next(alphabetSize)] : rng.Next(vocab);
        }

        return history;
    }

    /// <summary>The float row as doubles.</summary>
    public static double[] ToDouble(float[] row) => row.Select(v => (double)v).ToArray();

    /// <summary>The largest finite magnitude of a row (1 at least).</summary>
    public static double Scale(IEnumerable<double> row) => Math.Max(1, row.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());

    /// <summary>Asserts that a processed row matches the reference within the tolerance policy.</summary>
    public static void AssertRowClose(float[] actual, double[] expected, double scale, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Tolerance.Close(actual[i], expected[i], scale))
            {
                throw new Xunit.Sdk.XunitException($"{what}: token {i}: expected {expected[i]:R}, got {actual[i]:R} (scale {scale:R}, vocab {expected.Length}).");
            }
        }
    }

    /// <summary>Runs <paramref name="processor"/> on a batch and returns its rows.</summary>
    public static float[][] Run(LogitBatch batch, ILogitProcessor processor, IReadOnlyList<SamplingContext> contexts)
    {
        processor.Process(batch, contexts);
        var flat = batch.ToArray();
        return Enumerable.Range(0, batch.Rows).Select(r => LogitData.Row(flat, batch.Vocab, r)).ToArray();
    }
}

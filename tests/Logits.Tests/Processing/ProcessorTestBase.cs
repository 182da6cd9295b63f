using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;

namespace Logits.Tests.Processing;

/// <summary>Shared helpers of the processor tests; each backend derives a class that builds its batches.</summary>
public abstract class ProcessorTestBase
{
    /// <summary>Base row B of docs/algorithms/truncation.md: <c>[3, 2, 1, 0.5, 0, -1, -inf]</c>.</summary>
    protected static readonly float[] BaseRow = { 3f, 2f, 1f, 0.5f, 0f, -1f, float.NegativeInfinity };

    protected const float NegInf = float.NegativeInfinity;

    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    /// <summary>Vocabulary sizes for reference comparisons: 1..67, the vector edges and one real size.</summary>
    public static IEnumerable<int> ReferenceVocabs() =>
        Enumerable.Range(1, 67).Concat(new[] { 127, 128, 129, 4095, 4096, 4097, 128256, 262144 });

    /// <summary>Runs <paramref name="processor"/> on one row and returns the result.</summary>
    protected float[] Run(ILogitProcessor processor, float[] row, SamplingContext? context = null)
    {
        using var batch = Create(row, 1, row.Length);
        processor.Process(batch, new[] { context ?? new SamplingContext() });
        return batch.ToArray();
    }

    /// <summary>Runs <paramref name="processor"/> on a batch and returns its rows.</summary>
    protected float[][] RunRows(ILogitProcessor processor, float[] data, int rows, int vocab)
    {
        using var batch = Create(data, rows, vocab);
        processor.Process(batch, SamplingContext.ForRows(rows));
        var result = batch.ToArray();
        return Enumerable.Range(0, rows).Select(r => LogitData.Row(result, vocab, r)).ToArray();
    }

    /// <summary>The indices of the finite entries.</summary>
    protected static int[] Kept(float[] row) => Enumerable.Range(0, row.Length).Where(i => !float.IsNegativeInfinity(row[i])).ToArray();

    /// <summary>A message-carrying exact comparison of a processed row with its reference.</summary>
    protected static void AssertRowEqual(float[] actual, float[] expected, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = actual[i].Equals(expected[i]) || Tolerance.Close(actual[i], expected[i]);
            if (!same)
            {
                throw new Xunit.Sdk.XunitException($"{what}: token {i} expected {expected[i]:R}, got {actual[i]:R} (vocab {expected.Length}).");
            }
        }
    }

    /// <summary>Random data for a vocabulary, with the row count used for it.</summary>
    protected static (float[] Data, int Rows) RandomBatch(int vocab, int seed)
    {
        int rows = vocab >= 100000 ? 2 : 1 + (vocab % 5);
        return (LogitData.Random(rows, vocab, seed), rows);
    }

    /// <summary>Whether a row is all -inf.</summary>
    protected static bool IsEmpty(float[] row) => Array.TrueForAll(row, float.IsNegativeInfinity);
}

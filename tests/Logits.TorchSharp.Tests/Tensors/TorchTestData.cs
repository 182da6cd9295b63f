using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>Shapes and cached random data for the torch kernel tests.</summary>
public static class TorchTestData
{
    private static readonly ConcurrentDictionary<(int Rows, int Vocab, int Salt), float[]> Cache = new();

    /// <summary>
    /// <see cref="LogitData.Shapes"/> with the real vocabularies subsampled to keep the suite fast on two
    /// cores: every small vocabulary (1..67) and every vector-width edge stays, and of the real sizes
    /// 1 x 32000, 3 x 151936, 1 x 262144 and the parallel-path case 64 x 128256 remain.
    /// </summary>
    public static TheoryData<int, int> Shapes()
    {
        var kept = new HashSet<(int, int)> { (1, 32000), (3, 151936), (1, 262144), (64, 128256) };
        var data = new TheoryData<int, int>();
        foreach (var (rows, vocab) in LogitData.Shapes())
        {
            if (vocab < 32000 || kept.Contains((rows, vocab)))
            {
                data.Add(rows, vocab);
            }
        }

        return data;
    }

    /// <summary>Random logits of a shape (shared between tests; never mutate the array).</summary>
    public static float[] Logits(int rows, int vocab, int salt = 0) =>
        Cache.GetOrAdd((rows, vocab, salt), key => LogitData.Random(key.Rows, key.Vocab, Seed(key.Rows, key.Vocab) + key.Salt));

    /// <summary>The seed used for a shape.</summary>
    public static int Seed(int rows, int vocab) => unchecked((rows * 7919) + vocab);

    /// <summary>The largest |finite logit| of a row: the scale of log-softmax and logsumexp errors.</summary>
    public static double FiniteScale(float[] row) =>
        row.Where(float.IsFinite).Select(v => Math.Abs((double)v)).DefaultIfEmpty(0).Max();
}

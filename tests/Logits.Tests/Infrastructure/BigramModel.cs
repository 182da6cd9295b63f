using System;
using System.Collections.Generic;
using Logits.Generation;
using Logits.Tensors;

namespace Logits.Tests.Infrastructure;

/// <summary>A tiny deterministic language model: the next-token logits depend only on the last token.</summary>
public sealed class BigramModel : ILanguageModel
{
    private readonly float[][] _table;

    /// <param name="table">table[previous] = the logits of the next token; all rows have the same length.</param>
    public BigramModel(float[][] table)
    {
        _table = table;
        VocabSize = table[0].Length;
    }

    public int VocabSize { get; }

    public int Calls { get; private set; }

    /// <summary>A chain model: after token t the argmax is t + 1 (wrapping), with a clear margin.</summary>
    public static BigramModel Chain(int vocab)
    {
        var table = new float[vocab][];
        for (int t = 0; t < vocab; t++)
        {
            table[t] = new float[vocab];
            table[t][(t + 1) % vocab] = 5f;
        }

        return new BigramModel(table);
    }

    public LogitBatch CreateLogitBatch(int rows) => new CpuLogitBatch(rows, VocabSize);

    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        Calls++;
        var values = new float[contexts.Count * VocabSize];
        for (int r = 0; r < contexts.Count; r++)
        {
            var context = contexts[r].Span;
            _table[context[^1]].CopyTo(values, r * VocabSize);
        }

        destination.CopyFrom(values);
    }
}

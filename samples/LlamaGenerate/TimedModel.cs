using System;
using System.Collections.Generic;
using System.Diagnostics;
using Logits.Generation;
using Logits.Tensors;

namespace Logits.Samples.LlamaGenerate;

/// <summary>Wraps a language model and records how long each forward pass takes (the rest of a step is sampling).</summary>
internal sealed class TimedModel(ILanguageModel inner) : ILanguageModel
{
    public List<double> Microseconds { get; } = new();

    public int VocabSize => inner.VocabSize;

    public LogitBatch CreateLogitBatch(int rows) => inner.CreateLogitBatch(rows);

    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        long start = Stopwatch.GetTimestamp();
        inner.NextTokenLogits(contexts, destination);
        Microseconds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
    }
}

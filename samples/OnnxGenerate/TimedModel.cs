using System;
using System.Collections.Generic;
using System.Diagnostics;
using Logits.Generation;
using Logits.Tensors;

namespace Logits.Samples.OnnxGenerate;

/// <summary>
/// Wraps a language model and records, for each step, the time of the model call (forward pass and logits read) and
/// the whole step from one model call to the next (model call plus Logits' pipeline).
/// </summary>
internal sealed class TimedModel(ILanguageModel inner) : ILanguageModel
{
    private long _previousStart;
    private double _previousForward;

    /// <summary>Completed steps: (whole step, model call) in microseconds; step i ends when call i + 1 starts.</summary>
    public List<(double Total, double Forward)> Steps { get; } = new();

    public int VocabSize => inner.VocabSize;

    public LogitBatch CreateLogitBatch(int rows) => inner.CreateLogitBatch(rows);

    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        long start = Stopwatch.GetTimestamp();
        if (_previousStart != 0)
        {
            Steps.Add((Stopwatch.GetElapsedTime(_previousStart, start).TotalMicroseconds, _previousForward));
        }

        inner.NextTokenLogits(contexts, destination);
        _previousForward = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        _previousStart = start;
    }
}

using System.Collections.Generic;
using System.Diagnostics;
using LLama.Native;
using LLama.Sampling;

namespace Logits.Samples.LlamaGenerate;

/// <summary>Wraps a sampling pipeline and records how long each <c>Sample</c> call takes.</summary>
internal sealed class TimedPipeline(ISamplingPipeline inner) : ISamplingPipeline
{
    private readonly List<double> _microseconds = new();

    public int Calls => _microseconds.Count;

    /// <summary>The median time of a <c>Sample</c> call in microseconds (the first calls include JIT compilation).</summary>
    public double MedianMicroseconds => Timing.Median(_microseconds);

    public LLamaToken Sample(SafeLLamaContextHandle ctx, int index)
    {
        long start = Stopwatch.GetTimestamp();
        var token = inner.Sample(ctx, index);
        _microseconds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        return token;
    }

    public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data) => inner.Apply(ctx, data);

    public void Reset() => inner.Reset();

    public void Accept(LLamaToken token) => inner.Accept(token);

    public void Dispose() => inner.Dispose();
}

/// <summary>Timing helpers.</summary>
internal static class Timing
{
    public static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = new List<double>(values);
        sorted.Sort();
        return sorted[sorted.Count / 2];
    }
}

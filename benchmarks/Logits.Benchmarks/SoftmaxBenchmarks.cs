using System;
using System.Diagnostics.CodeAnalysis;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Logits.Tensors;

namespace Logits.Benchmarks;

/// <summary>
/// Softmax of one row at real vocabulary sizes: Logits' CPU kernel against its peers, in the same run.
/// </summary>
/// <remarks>
/// The baseline is a plain copy of the row, the memory traffic every softmax pays at least once.
/// Logits' kernel works in place, so its benchmark copies the input row first and then runs the
/// kernel; the difference to the baseline is the kernel's own cost.
/// </remarks>
[MemoryDiagnoser]
[SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet owns the instance; [GlobalCleanup] disposes the batch.")]
public class SoftmaxBenchmarks
{
    private float[] _logits = [];
    private float[] _destination = [];
    private CpuLogitBatch _batch = null!;

    /// <summary>Vocabulary sizes of Llama 2 (32000), Llama 3 (128256), Qwen 2 (151936) and Gemma 3 (262144).</summary>
    [Params(32000, 128256, 151936, 262144)]
    public int Vocab { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Fixed seed: every run measures the same row. Values in [-20, 20) keep
        // TensorPrimitives.SoftMax finite, so all peers do the same work.
        var random = new Random(20260101);
        _logits = new float[Vocab];
        for (int i = 0; i < _logits.Length; i++)
        {
            _logits[i] = (float)((random.NextDouble() * 40.0) - 20.0);
        }

        _destination = new float[Vocab];
        _batch = new CpuLogitBatch(1, Vocab);
    }

    [GlobalCleanup]
    public void Cleanup() => _batch.Dispose();

    [Benchmark(Baseline = true, Description = "Span.CopyTo (row copy)")]
    public void RowCopy() => _logits.AsSpan().CopyTo(_destination);

    // TensorPrimitives.SoftMax does not subtract the row maximum: exp overflows to +inf for
    // logits above ~88.7 and the result becomes NaN. It is measured as a speed peer only; never
    // use it for logits (see README's platform notes).
    [Benchmark(Description = "TensorPrimitives.SoftMax (unstable)")]
    public void TensorPrimitivesSoftMax() => TensorPrimitives.SoftMax(_logits, _destination);

    [Benchmark(Description = "scalar stable softmax")]
    public void ScalarStableSoftmax()
    {
        ReadOnlySpan<float> x = _logits;
        Span<float> destination = _destination;
        float max = float.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            max = Math.Max(max, x[i]);
        }

        // The sum in double: a float sum over 262144 terms loses digits.
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            destination[i] = e;
            sum += e;
        }

        float scale = (float)(1.0 / sum);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] *= scale;
        }
    }

    [Benchmark(Description = "Logits CpuKernels.Softmax (copy + in place)")]
    public void LogitsSoftmax()
    {
        _logits.AsSpan().CopyTo(_batch.AsSpan());
        _batch.Kernels.Softmax(_batch, _batch);
    }
}

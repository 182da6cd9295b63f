using System;

namespace Logits.Tensors.Cpu;

/// <summary>The SIMD CPU implementation of <see cref="ILogitKernels"/> over <see cref="CpuLogitBatch"/> rows.</summary>
internal sealed partial class CpuKernels : ILogitKernels
{
    public static CpuKernels Instance { get; } = new();

    private CpuKernels()
    {
    }

    public string Name => "cpu";

    public void Softmax(LogitBatch x, LogitBatch destination) => throw new NotImplementedException();

    public void LogSoftmax(LogitBatch x, LogitBatch destination) => throw new NotImplementedException();

    public void LogSumExp(LogitBatch x, Span<float> destination) => throw new NotImplementedException();

    public void Scale(LogitBatch x, float factor, LogitBatch destination) => throw new NotImplementedException();

    public void Affine(float a, LogitBatch x, float b, LogitBatch? y, float c, LogitBatch? z, LogitBatch destination) => throw new NotImplementedException();

    public void ArgMax(LogitBatch x, Span<int> destination) => throw new NotImplementedException();

    public void MaskBelow(LogitBatch x, ReadOnlySpan<float> thresholds, LogitBatch destination) => throw new NotImplementedException();

    public void KthLargest(LogitBatch x, ReadOnlySpan<int> k, Span<float> destination) => throw new NotImplementedException();

    public void TopPThreshold(LogitBatch x, ReadOnlySpan<double> p, int minTokensToKeep, Span<float> destination) => throw new NotImplementedException();

    public void Gather(LogitBatch x, ReadOnlySpan<int> tokenIds, Span<float> destination) => throw new NotImplementedException();

    public void ScatterAdd(LogitBatch destination, ReadOnlySpan<int> tokenIds, ReadOnlySpan<float> values) => throw new NotImplementedException();

    public void Sample(LogitBatch x, ReadOnlySpan<double> uniforms, Span<int> destination) => throw new NotImplementedException();
}

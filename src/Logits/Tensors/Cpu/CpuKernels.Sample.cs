using System;
using System.Buffers;
using System.Numerics.Tensors;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    private const int SampleChunkLength = 1024;

    public void Sample(LogitBatch x, ReadOnlySpan<double> uniforms, Span<int> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, uniforms.Length, nameof(uniforms));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        for (int r = 0; r < uniforms.Length; r++)
        {
            if (!(uniforms[r] >= 0 && uniforms[r] < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), uniforms[r], $"must be in [0, 1) (row {r})");
            }
        }

        var us = RentCopy(uniforms);
        var results = ArrayPool<int>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new SampleJob(source.Memory, us, results, source.Vocab));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(us);
            ArrayPool<int>.Shared.Return(results);
        }
    }

    /// <summary>
    /// Inverse-CDF sampling of one row without materialising the softmax: a pass for
    /// <c>S = Σ exp(z - m)</c> and a scan for the first <c>C_i &gt; u·S</c>, both accumulating the same
    /// float32 exp values sequentially in float64, so <c>C_last = S</c> exactly.
    /// </summary>
    internal static int SampleRow(ReadOnlySpan<float> x, double u, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "sample");
        Span<float> buffer = stackalloc float[SampleChunkLength];
        double total = 0;
        for (int start = 0; start < x.Length; start += SampleChunkLength)
        {
            var w = ExpChunk(x, start, m, buffer);
            for (int j = 0; j < w.Length; j++)
            {
                total += w[j];
            }
        }

        double target = u * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int start = 0; start < x.Length; start += SampleChunkLength)
        {
            var w = ExpChunk(x, start, m, buffer);
            for (int j = 0; j < w.Length; j++)
            {
                if (w[j] > 0)
                {
                    lastPositive = start + j;
                    cumulative += w[j];
                    if (target < cumulative)
                    {
                        return start + j;
                    }
                }
            }
        }

        // u·S rounded up to S: fall back to the last token with positive weight, never a removed one.
        return lastPositive;
    }

    private static Span<float> ExpChunk(ReadOnlySpan<float> x, int start, float m, Span<float> buffer)
    {
        var chunk = x.Slice(start, Math.Min(SampleChunkLength, x.Length - start));
        var w = buffer[..chunk.Length];
        TensorPrimitives.Subtract(chunk, m, w);
        TensorPrimitives.Exp(w, w);
        return w;
    }

    private readonly struct SampleJob(Memory<float> x, double[] uniforms, int[] results, int vocab) : IRowJob
    {
        public void Run(int row) => results[row] = SampleRow(x.Span.Slice(row * vocab, vocab), uniforms[row], row);
    }
}

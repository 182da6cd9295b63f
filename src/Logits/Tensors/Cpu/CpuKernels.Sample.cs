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
    /// <c>S = Σ exp(z - m)</c> (float32 SIMD sums of 1024-element chunks, accumulated in float64) and a second
    /// pass that skips whole chunks by the same sums and scans only the chunk holding <c>u·S</c>, in float64.
    /// The chunk-boundary values of <c>C</c> equal pass 1's partial sums, so <c>C_last = S</c>; inside a chunk
    /// <c>C</c> may differ from a fully sequential float64 prefix by float32 rounding of one chunk sum
    /// (~1e-7 of S), which only matters for a <c>u</c> that close to a step.
    /// </summary>
    internal static int SampleRow(ReadOnlySpan<float> x, double u, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "sample");
        Span<float> buffer = stackalloc float[SampleChunkLength];

        // Pass 1: S as SIMD chunk sums accumulated in float64 (C at chunk boundaries).
        double total = 0;
        for (int start = 0; start < x.Length; start += SampleChunkLength)
        {
            total += TensorPrimitives.Sum(ExpChunk(x, start, m, buffer));
        }

        // Pass 2: skip whole chunks by the same chunk sums, then scan the chunk that holds u·S with a
        // sequential float64 prefix from that chunk's boundary value.
        double target = u * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int start = 0; start < x.Length; start += SampleChunkLength)
        {
            var w = ExpChunk(x, start, m, buffer);
            double chunkSum = TensorPrimitives.Sum(w);
            if (cumulative + chunkSum <= target)
            {
                cumulative += chunkSum;
                if (chunkSum > 0)
                {
                    lastPositive = start + LastPositive(w);
                }

                continue;
            }

            double running = cumulative;
            for (int j = 0; j < w.Length; j++)
            {
                if (w[j] > 0)
                {
                    lastPositive = start + j;
                    running += w[j];
                    if (target < running)
                    {
                        return start + j;
                    }
                }
            }

            // Float rounding put u·S between the chunk's sequential sum and its SIMD sum: move on.
            cumulative += chunkSum;
        }

        // u·S rounded up to S: fall back to the last token with positive weight, never a removed one.
        return lastPositive;
    }

    private static int LastPositive(ReadOnlySpan<float> w)
    {
        for (int j = w.Length - 1; j >= 0; j--)
        {
            if (w[j] > 0)
            {
                return j;
            }
        }

        return -1;
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

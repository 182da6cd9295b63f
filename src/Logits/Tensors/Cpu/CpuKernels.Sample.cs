
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
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), uniforms[r], $"must be in [0, 1) (row {source.RowOffset + r})");
            }
        }

        var us = RentCopy(uniforms);
        var results = ArrayPool<int>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new SampleJob(source.Storage, us, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(us);
            ArrayPool<int>.Shared.Return(results);
        }
    }

    /// <summary>
    /// Inverse-CDF sampling of one row without materialising the softmax: one pass computes the chunk sums
    /// <c>Σ exp(z - m)</c> of 1024-element chunks (<see cref="VectorExp"/>, no stores) and their float64 total
    /// <c>S</c>; a second step skips whole chunks by those sums and recomputes exp only for the chunk holding
    /// <c>u·S</c>, scanned with a sequential float64 prefix. The chunk-boundary values of <c>C</c> equal the
    /// partial sums, so <c>C_last = S</c>; inside a chunk <c>C</c> may differ from a fully sequential float64
    /// prefix by float32 rounding of one chunk sum (~1e-7 of S), which only matters for a <c>u</c> that close
    /// to a step.
    /// </summary>
    internal static int SampleRow(ReadOnlySpan<float> x, double u, int row) => SampleRow(x, u, row, RowMath.NonEmptyMax(x, row, "sample"));

    /// <summary><see cref="SampleRow(ReadOnlySpan{float}, double, int)"/> on a checked row whose finite maximum <paramref name="m"/> is known.</summary>
    private static int SampleRow(ReadOnlySpan<float> x, double u, int row, float m)
    {
        int chunks = (x.Length + SampleChunkLength - 1) / SampleChunkLength;
        double[]? rented = null;
        Span<double> chunkSums = chunks <= MaxStackChunks
            ? stackalloc double[MaxStackChunks]
            : (rented = ArrayPool<double>.Shared.Rent(chunks));
        try
        {
            // Pass 1: the chunk sums and S (C at chunk boundaries).
            double total = 0;
            for (int c = 0; c < chunks; c++)
            {
                int start = c * SampleChunkLength;
                chunkSums[c] = VectorExp.ExpShiftedSum(x.Slice(start, Math.Min(SampleChunkLength, x.Length - start)), m);
                total += chunkSums[c];
            }

            return SampleFromChunkSums(x, m, u * total, chunkSums[..chunks]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<double>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Chunk sums kept on the stack up to this many chunks (V ≤ 262144).</summary>
    private const int MaxStackChunks = 256;

    private static int SampleFromChunkSums(ReadOnlySpan<float> x, float m, double target, ReadOnlySpan<double> chunkSums)
    {
        Span<float> buffer = stackalloc float[SampleChunkLength];
        double cumulative = 0;
        int lastPositiveChunk = -1;
        for (int c = 0; c < chunkSums.Length; c++)
        {
            double chunkSum = chunkSums[c];
            if (chunkSum > 0)
            {
                lastPositiveChunk = c;
            }

            if (cumulative + chunkSum <= target)
            {
                cumulative += chunkSum;
                continue;
            }

            int start = c * SampleChunkLength;
            var w = ExpChunk(x, start, m, buffer);
            double running = cumulative;
            for (int j = 0; j < w.Length; j++)
            {
                if (w[j] > 0)
                {
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
        int last = lastPositiveChunk * SampleChunkLength;
        return last + LastPositive(ExpChunk(x, last, m, buffer));
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
        VectorExp.ExpShiftedSum(chunk, m, w);
        return w;
    }

    private readonly struct SampleJob(Memory<float> x, double[] uniforms, int[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            if (support is not null && support.TryGetSupport(row, out var ids) && ids.Length > 0)
            {
                results[row] = ids[RowSupport.Reduce<SampleReduction, int>(values, ids, row, new SampleReduction(uniforms[row]))];
            }
            else if (support is not null && support.TryGetMaximum(row, out float known))
            {
                // A dense row whose checked maximum is known (e.g. kept by a mask): no second checking pass.
                if (float.IsNegativeInfinity(known))
                {
                    ThrowHelper.ThrowNoViableToken(row, "sample");
                }

                results[row] = SampleRow(values, uniforms[row], row, known);
            }
            else
            {
                results[row] = SampleRow(values, uniforms[row], row);
            }
        }
    }

    private readonly struct SampleReduction(double u) : IRowReduction<int>
    {
        public int Run(ReadOnlySpan<float> x, int row) => SampleRow(x, u, row);
    }
}

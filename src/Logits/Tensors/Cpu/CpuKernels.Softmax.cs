using System.Numerics.Tensors;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void Softmax(LogitBatch x, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        var target = AsCpuLike(source, destination, nameof(destination));
        RowRunner.Run(source.Rows, source.Vocab, new SoftmaxJob(source.Storage, target.Storage, source.Vocab, logarithm: false, null));

        // Probabilities: the removed tokens are now 0, not −∞, so nothing known about the rows holds.
        target.Support?.ForgetAll();
    }

    public void LogSoftmax(LogitBatch x, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        var target = AsCpuLike(source, destination, nameof(destination));
        // In place on a row with a known support: the log-softmax of the supported entries (the rest stay −∞).
        var support = ReferenceEquals(source, target) ? target.Support : null;
        if (support is null)
        {
            target.Support?.ForgetAll();
        }

        RowRunner.Run(source.Rows, source.Vocab, new SoftmaxJob(source.Storage, target.Storage, source.Vocab, logarithm: true, support));
    }

    public void LogSumExp(LogitBatch x, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        var results = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new LogSumExpJob(source.Storage, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(results);
        }
    }

    /// <summary>Elements per chunk of log-softmax's second pass (4 KiB: read back from L1).</summary>
    private const int SoftmaxChunkLength = 1024;

    /// <summary>Stable softmax of one row: <c>exp(x - m) / S</c>; in place allowed.</summary>
    /// <remarks>
    /// Three passes: the checked maximum (read), exp and sum fused in one pass (<see cref="VectorExp"/>: one
    /// read, one write), the scale (read and write); all three on <see cref="SimdLoops"/>.
    /// </remarks>
    internal static void SoftmaxRow(ReadOnlySpan<float> x, Span<float> destination, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "softmax");

        // sum >= 1 because the maximum contributes exp(0) = 1.
        double sum = VectorExp.ExpShiftedSum(x, m, destination);

        // Unchecked: terms in [0, 1] times 1/sum in (0, 1] cannot be invalid. Not TensorPrimitives.Multiply: above
        // 256 KB it writes with non-temporal (cache-bypassing) stores, and the caller reads the probabilities next.
        var probabilities = destination[..x.Length];
        SimdLoops.Map<MultiplyOperator>(probabilities, (float)(1.0 / sum), probabilities);
    }

    /// <summary>Stable log-softmax of one row: <c>(x - m) - ln S</c>; in place allowed.</summary>
    internal static void LogSoftmaxRow(ReadOnlySpan<float> x, Span<float> destination, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "log-softmax");
        float logSum = (float)Math.Log(RowMath.SumExpShifted(x, m));

        // Two steps rather than x - (m + ln S): x - m is exact near the maximum, which keeps the
        // log-probabilities of likely tokens accurate even for logits of magnitude 1e4. Chunked, so
        // the second step reads the first one's output from L1.
        for (int start = 0; start < x.Length; start += SoftmaxChunkLength)
        {
            int length = Math.Min(SoftmaxChunkLength, x.Length - start);
            var chunk = destination.Slice(start, length);
            TensorPrimitives.Subtract(x.Slice(start, length), m, chunk);
            TensorPrimitives.Subtract(chunk, logSum, chunk);
        }
    }

    internal static float LogSumExpRow(ReadOnlySpan<float> x, int row)
    {
        float m = RowMath.NonEmptyMax(x, row, "logsumexp");
        return (float)(m + Math.Log(RowMath.SumExpShifted(x, m)));
    }

    private readonly struct SoftmaxJob(Memory<float> x, Memory<float> destination, int vocab, bool logarithm, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var source = x.Span.Slice(row * vocab, vocab);
            var target = destination.Span.Slice(row * vocab, vocab);
            if (support is not null)
            {
                if (support.TryGetSupport(row, out var ids) && ids.Length > 0)
                {
                    LogSoftmaxOnSupport(target, ids, row);
                    support.ForgetMaximum(row);
                    return;
                }

                support.Forget(row);
            }

            if (logarithm)
            {
                LogSoftmaxRow(source, target, row);
            }
            else
            {
                SoftmaxRow(source, target, row);
            }
        }
    }

    /// <summary>In-place log-softmax of a row's supported entries (every other entry is −∞ and stays so).</summary>
    private static void LogSoftmaxOnSupport(Span<float> row, ReadOnlySpan<int> ids, int rowIndex)
    {
        var compact = RowSupport.Gather(row, ids);
        try
        {
            var values = compact.AsSpan(0, ids.Length);
            LogSoftmaxRow(values, values, rowIndex);
            RowSupport.Scatter(values, ids, row);
        }
        catch (InvalidLogitsException error)
        {
            throw RowSupport.Remap(error, ids);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(compact);
        }
    }

    private readonly struct LogSumExpJob(Memory<float> x, float[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            results[row] = support is not null && support.TryGetSupport(row, out var ids) && ids.Length > 0
                ? RowSupport.Reduce<LogSumExpReduction, float>(values, ids, row, default)
                : LogSumExpRow(values, row);
        }
    }

    private readonly struct LogSumExpReduction : IRowReduction<float>
    {
        public float Run(ReadOnlySpan<float> x, int row) => LogSumExpRow(x, row);
    }
}

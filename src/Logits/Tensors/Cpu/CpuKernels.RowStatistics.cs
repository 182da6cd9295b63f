using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void RowMax(LogitBatch x, Span<float> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        if (source.Rows == 1)
        {
            // One row (every decode step of a single sequence): no row runner and no rented result buffer.
            destination[0] = RowMaxOf(source.Storage.Span[..source.Vocab], 0, source.Support);
            return;
        }

        var results = ArrayPool<float>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new RowMaxJob(source.Storage, results, source.Vocab, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(results);
        }
    }

    public void RowStatistics(LogitBatch x, RowStatisticKinds kinds, Span<LogitRowStatistics> destination)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, destination.Length, nameof(destination));
        if (!IsDefinedCombination(kinds))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(kinds), kinds, "holds an undefined flag");
        }

        var results = ArrayPool<LogitRowStatistics>.Shared.Rent(source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new RowStatisticsJob(source.Storage, results, source.Vocab, kinds, source.Support));
            results.AsSpan(0, source.Rows).CopyTo(destination);
        }
        finally
        {
            ArrayPool<LogitRowStatistics>.Shared.Return(results);
        }
    }

    /// <summary>
    /// Whether <paramref name="kinds"/> is an OR of defined flags: no unknown bit, and not the entropy bit without
    /// <see cref="RowStatisticKinds.LogSumExp"/> (<see cref="RowStatisticKinds.Entropy"/> includes it, so that bit alone
    /// would silently compute nothing).
    /// </summary>
    internal static bool IsDefinedCombination(RowStatisticKinds kinds) =>
        (kinds & ~RowStatisticKinds.All) == 0
        && ((kinds & RowStatisticKinds.Entropy) != (RowStatisticKinds.Entropy & ~RowStatisticKinds.LogSumExp));

    /// <summary>The checked maximum of a row during or outside a pipeline call (remembered until the row is written).</summary>
    internal static float RowMaxOf(ReadOnlySpan<float> x, int row, RowSupport? support)
    {
        if (support is null)
        {
            return RowMath.CheckedMax(x, row);
        }

        if (support.TryGetMaximum(row, out float known))
        {
            return known;
        }

        float maximum;
        if (!support.TryGetSupport(row, out var ids))
        {
            // A long row's blocks are summarised in the same read, for the kernels that can skip blocks (BlockMaxima).
            var blocks = support.BlockMaximaSlots(row, x.Length);
            if (!blocks.IsEmpty)
            {
                maximum = BlockMaxima.CheckedMax(x, blocks, row);
                support.SetMaximumWithBlocks(row, maximum);
                return maximum;
            }

            maximum = RowMath.CheckedMax(x, row);
        }
        else
        {
            // Beyond a known support every entry is −∞: the maximum of the supported entries is the row's.
            maximum = ids.IsEmpty ? float.NegativeInfinity : RowSupport.Reduce<CheckedMaxReduction, float>(x, ids, row, default);
        }

        support.SetMaximum(row, maximum);
        return maximum;
    }

    private readonly struct CheckedMaxReduction : IRowReduction<float>
    {
        public float Run(ReadOnlySpan<float> x, int row) => RowMath.CheckedMax(x, row);
    }

    /// <summary>The statistics of one (checked) row whose maximum is <paramref name="m"/>.</summary>
    internal static LogitRowStatistics StatisticsOfRow(ReadOnlySpan<float> x, float m, RowStatisticKinds kinds)
    {
        int finite = CountFinite(x);
        if (finite == 0)
        {
            // Not asked for is NaN even here, so a rule that reads what it did not ask for fails visibly.
            double emptyLogSumExp = (kinds & RowStatisticKinds.LogSumExp) != 0 ? double.NegativeInfinity : double.NaN;
            return new LogitRowStatistics(0, float.NegativeInfinity, emptyLogSumExp, double.NaN, double.NaN, double.NaN);
        }

        double logSumExp = double.NaN;
        double entropy = double.NaN;
        if ((kinds & RowStatisticKinds.Entropy) == RowStatisticKinds.Entropy)
        {
            var (sum, weighted) = ExpSums(x, m);
            double logSum = Math.Log(sum);
            logSumExp = m + logSum;

            // H = ln S − T/S ≥ 0 mathematically; rounding may leave −1e-17.
            entropy = Math.Max(0, logSum - (weighted / sum));
        }
        else if ((kinds & RowStatisticKinds.LogSumExp) != 0)
        {
            logSumExp = m + Math.Log(RowMath.SumExpShifted(x, m));
        }

        double mean = double.NaN;
        double deviation = double.NaN;
        if ((kinds & RowStatisticKinds.Moments) != 0)
        {
            (mean, deviation) = Moments(x, finite);
        }

        return new LogitRowStatistics(finite, m, logSumExp, entropy, mean, deviation);
    }

    /// <summary>The number of entries that are not −∞ (the row is checked: no NaN or +∞).</summary>
    private static int CountFinite(ReadOnlySpan<float> x)
    {
        int removed = 0;
        int start = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var negativeInfinity = new Vector<float>(float.NegativeInfinity);
            var count = Vector<int>.Zero;
            foreach (var v in xv)
            {
                // Equal lanes are all ones, i.e. −1.
                count -= Vector.Equals(v, negativeInfinity);
            }

            removed = Vector.Sum(count);
            start = xv.Length * Vector<float>.Count;
        }

        for (int i = start; i < x.Length; i++)
        {
            if (float.IsNegativeInfinity(x[i]))
            {
                removed++;
            }
        }

        return x.Length - removed;
    }

    /// <summary>
    /// <c>S = Σ w_i</c> and <c>T = Σ d_i w_i</c> with <c>d_i = z_i − m</c> and <c>w_i = exp(d_i)</c>, all in float64
    /// (<c>TensorPrimitives.Exp</c> on doubles), chunk by chunk from a stack buffer. The entropy <c>ln S − T/S</c>
    /// feeds rules that amplify its error (dynamic temperature raises it to a power below 1 near 0), so float32
    /// weights are not precise enough. <c>d</c> is clamped at −1000 first: <c>exp</c> is then exactly 0 and a −∞
    /// entry adds <c>−1000 · 0 = 0</c> rather than NaN.
    /// </summary>
    private static (double Sum, double Weighted) ExpSums(ReadOnlySpan<float> x, float m)
    {
        const int Chunk = 512;
        Span<double> offsets = stackalloc double[Chunk];
        Span<double> weights = stackalloc double[Chunk];
        double sum = 0;
        double weighted = 0;
        for (int start = 0; start < x.Length; start += Chunk)
        {
            int length = Math.Min(Chunk, x.Length - start);
            var d = offsets[..length];
            var w = weights[..length];
            TensorPrimitives.ConvertChecked<float, double>(x.Slice(start, length), d);
            TensorPrimitives.Subtract(d, (double)m, d);
            TensorPrimitives.Max(d, -1000.0, d);
            TensorPrimitives.Exp(d, w);
            sum += TensorPrimitives.Sum<double>(w);
            weighted += TensorPrimitives.Dot<double>(d, w);
        }

        return (sum, weighted);
    }

    /// <summary>The mean and population standard deviation of the finite entries (two passes, float64 sums).</summary>
    private static (double Mean, double StandardDeviation) Moments(ReadOnlySpan<float> x, int finite)
    {
        double sum = 0;
        foreach (float v in x)
        {
            if (!float.IsNegativeInfinity(v))
            {
                sum += v;
            }
        }

        double mean = sum / finite;
        double squares = 0;
        foreach (float v in x)
        {
            if (!float.IsNegativeInfinity(v))
            {
                double d = v - mean;
                squares += d * d;
            }
        }

        return (mean, Math.Sqrt(squares / finite));
    }

    private readonly struct RowMaxJob(Memory<float> x, float[] results, int vocab, RowSupport? support) : IRowJob
    {
        public void Run(int row) => results[row] = RowMaxOf(x.Span.Slice(row * vocab, vocab), row, support);
    }

    private readonly struct RowStatisticsJob(Memory<float> x, LogitRowStatistics[] results, int vocab, RowStatisticKinds kinds, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            float m = RowMaxOf(values, row, support);
            if (support is not null && support.TryGetSupport(row, out var ids))
            {
                // Beyond the support every entry is −∞: the statistics of the compact values are the row's.
                var compact = RowSupport.Gather(values, ids);
                try
                {
                    results[row] = StatisticsOfRow(compact.AsSpan(0, ids.Length), m, kinds);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(compact);
                }

                return;
            }

            results[row] = StatisticsOfRow(values, m, kinds);
        }
    }
}


namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>The bands of <see cref="TypicalBand"/> (an all-<c>-∞</c> row gets <c>(-∞, +∞)</c>), then <see cref="MaskOutside"/>.</remarks>
    public void MaskOutsideTypical(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, mass.Length, nameof(mass));
        for (int r = 0; r < mass.Length; r++)
        {
            if (!(mass[r] > 0 && mass[r] <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mass), mass[r], $"must be in (0, 1] (row {source.RowOffset + r})");
            }
        }

        if (minTokensToKeep < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minTokensToKeep), minTokensToKeep, "must be at least 1");
        }

        int rows = source.Rows;
        var masses = RentCopy(mass);
        var lower = ArrayPool<float>.Shared.Rent(rows);
        var upper = ArrayPool<float>.Shared.Rent(rows);
        try
        {
            RowRunner.Run(rows, source.Vocab, new TypicalMaskJob(source.Storage, masses, lower, upper, source.Vocab, minTokensToKeep, strict, source.Support));
            MaskOutside(source, lower.AsSpan(0, rows), upper.AsSpan(0, rows), destination);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(masses);
            ArrayPool<float>.Shared.Return(lower);
            ArrayPool<float>.Shared.Return(upper);
        }
    }

    private readonly struct TypicalMaskJob(
        Memory<float> x, double[] mass, float[] lower, float[] upper, int vocab, int minTokensToKeep, bool strict, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            float m = RowMaxOf(values, row, support);
            (lower[row], upper[row]) = float.IsNegativeInfinity(m)
                ? (float.NegativeInfinity, float.PositiveInfinity)
                : TypicalBandRow(values, m, mass[row], minTokensToKeep, strict);
        }
    }
}

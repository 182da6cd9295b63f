namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>The composition the contract describes (<see cref="ScaleByEntropyComposed"/>), on this backend's kernels.</remarks>
    public void ScaleByEntropy(LogitBatch x, ReadOnlySpan<double> minimum, ReadOnlySpan<double> range, double exponent, double greedyBelow, LogitBatch destination)
    {
        var source = AsCpu(x, nameof(x));
        AsCpuLike(source, destination, nameof(destination));
        ScaleByEntropyComposed(this, source, minimum, range, exponent, greedyBelow, destination);
    }

    /// <summary>The argument checks of <see cref="ILogitKernels.ScaleByEntropy"/> (shared with the torch backend).</summary>
    internal static void ValidateEntropyTemperature(int rows, ReadOnlySpan<double> minimum, ReadOnlySpan<double> range, double exponent, double greedyBelow)
    {
        EnsurePerRow(rows, minimum.Length, nameof(minimum));
        EnsurePerRow(rows, range.Length, nameof(range));
        for (int r = 0; r < rows; r++)
        {
            if (!double.IsFinite(minimum[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(minimum), minimum[r], $"must be finite (row {r})");
            }

            if (!double.IsFinite(range[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(range), range[r], $"must be finite (row {r})");
            }
        }

        if (!(exponent > 0) || !double.IsFinite(exponent))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(exponent), exponent, "must be finite and greater than 0");
        }

        if (!(greedyBelow >= 0) || !double.IsFinite(greedyBelow))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(greedyBelow), greedyBelow, "must be finite and at least 0");
        }
    }

    /// <summary>
    /// <see cref="ILogitKernels.ScaleByEntropy"/> as the composition of <see cref="ILogitKernels.RowStatistics"/>,
    /// <see cref="ILogitKernels.Scale"/> and <see cref="ILogitKernels.MaskExceptArgMax"/> on <paramref name="kernels"/>
    /// (the CPU kernel, and the torch kernel outside the cases it keeps on the device).
    /// </summary>
    internal static void ScaleByEntropyComposed(ILogitKernels kernels, LogitBatch x, ReadOnlySpan<double> minimum, ReadOnlySpan<double> range, double exponent, double greedyBelow, LogitBatch destination)
    {
        int rows = x.Rows;
        ValidateEntropyTemperature(rows, minimum, range, exponent, greedyBelow);
        var statistics = ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        var factors = ArrayPool<float>.Shared.Rent(rows);
        var greedy = ArrayPool<bool>.Shared.Rent(rows);
        try
        {
            kernels.RowStatistics(x, RowStatisticKinds.Entropy, statistics.AsSpan(0, rows));
            bool anyGreedy = false;
            bool anyScaled = false;
            for (int r = 0; r < rows; r++)
            {
                factors[r] = 1f;
                greedy[r] = false;
                int finite = statistics[r].Finite;
                if (finite <= 1)
                {
                    continue;
                }

                double normalized = statistics[r].Entropy / Math.Log(finite);
                double t = minimum[r] + (range[r] * Math.Pow(normalized, exponent));
                if (t < greedyBelow)
                {
                    greedy[r] = true;
                    anyGreedy = true;
                }
                else
                {
                    factors[r] = (float)(1.0 / t);
                    anyScaled |= factors[r] != 1f;
                }
            }

            if (anyScaled || !ReferenceEquals(x, destination))
            {
                kernels.Scale(x, factors.AsSpan(0, rows), destination);
            }

            if (anyGreedy)
            {
                kernels.MaskExceptArgMax(destination, greedy.AsSpan(0, rows), destination);
            }
        }
        finally
        {
            ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
            ArrayPool<float>.Shared.Return(factors);
            ArrayPool<bool>.Shared.Return(greedy);
        }
    }
}

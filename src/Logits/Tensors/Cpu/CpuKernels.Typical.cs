
namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    public void TypicalBand(LogitBatch x, ReadOnlySpan<double> mass, int minTokensToKeep, bool strict, Span<float> lower, Span<float> upper)
    {
        var source = AsCpu(x, nameof(x));
        EnsurePerRow(source.Rows, mass.Length, nameof(mass));
        EnsurePerRow(source.Rows, lower.Length, nameof(lower));
        EnsurePerRow(source.Rows, upper.Length, nameof(upper));
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

        var masses = RentCopy(mass);
        var bands = ArrayPool<float>.Shared.Rent(2 * source.Rows);
        try
        {
            RowRunner.Run(source.Rows, source.Vocab, new TypicalJob(source.Storage, masses, bands, source.Vocab, minTokensToKeep, strict, source.Support));
            for (int r = 0; r < source.Rows; r++)
            {
                lower[r] = bands[2 * r];
                upper[r] = bands[(2 * r) + 1];
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(masses);
            ArrayPool<float>.Shared.Return(bands);
        }
    }

    /// <summary>The typicality score <c>|−(z − lse) − H|</c>: one expression, so the sort and the band agree bit for bit.</summary>
    private static double TypicalScore(float z, double lse, double entropy) => Math.Abs(-(z - lse) - entropy);

    /// <summary>The typical band of one checked, non-empty row whose maximum is <paramref name="m"/>.</summary>
    internal static (float Lower, float Upper) TypicalBandRow(ReadOnlySpan<float> z, float m, double mass, int minTokensToKeep, bool strict)
    {
        if (mass >= 1)
        {
            return (float.NegativeInfinity, float.PositiveInfinity);
        }

        var stats = StatisticsOfRow(z, m, RowStatisticKinds.Entropy);
        double lse = stats.LogSumExp;
        double entropy = stats.Entropy;
        int finite = stats.Finite;
        var scores = ArrayPool<double>.Shared.Rent(finite);
        var values = ArrayPool<float>.Shared.Rent(finite);
        try
        {
            int count = 0;
            foreach (float value in z)
            {
                if (!float.IsNegativeInfinity(value))
                {
                    scores[count] = TypicalScore(value, lse, entropy);
                    values[count] = value;
                    count++;
                }
            }

            // Order within a score tie does not matter: the whole tie group is kept or dropped together.
            Array.Sort(scores, values, 0, count);
            int n = count;
            double cumulative = 0;
            for (int j = 0; j < count; j++)
            {
                cumulative += Math.Exp(values[j] - lse);
                if (strict ? cumulative > mass : cumulative >= mass)
                {
                    n = j + 1;
                    break;
                }
            }

            n = Math.Max(n, Math.Min(minTokensToKeep, count));
            double cut = scores[n - 1];

            // s is valley-shaped in z, so {s ≤ cut} is the value band [lower, upper].
            float lower = float.PositiveInfinity;
            float upper = float.NegativeInfinity;
            for (int j = 0; j < count; j++)
            {
                if (scores[j] <= cut)
                {
                    lower = Math.Min(lower, values[j]);
                    upper = Math.Max(upper, values[j]);
                }
            }

            return (lower, upper);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scores);
            ArrayPool<float>.Shared.Return(values);
        }
    }

    private readonly struct TypicalJob(
        Memory<float> x, double[] mass, float[] bands, int vocab, int minTokensToKeep, bool strict, RowSupport? support) : IRowJob
    {
        public void Run(int row)
        {
            var values = x.Span.Slice(row * vocab, vocab);
            float m = RowMaxOf(values, row, support);
            if (float.IsNegativeInfinity(m))
            {
                ThrowHelper.ThrowNoViableToken(row, "typical");
            }

            (bands[2 * row], bands[(2 * row) + 1]) = TypicalBandRow(values, m, mass[row], minTokensToKeep, strict);
        }
    }
}

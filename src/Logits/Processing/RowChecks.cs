
namespace Logits.Processing;

/// <summary>Facts about rows that processors ask the kernels for: the checked maxima and which rows hold a removed token.</summary>
internal static class RowChecks
{
    /// <summary>
    /// The checked row maxima (<see cref="ILogitKernels.RowMax"/>); a NaN/<c>+∞</c> is reported under
    /// <paramref name="stage"/> (when given). Returns whether a row is all <c>-∞</c>.
    /// </summary>
    public static bool Maxima(LogitBatch x, Span<float> maxima, string? stage)
    {
        try
        {
            x.Kernels.RowMax(x, maxima);
        }
        catch (InvalidLogitsException e) when (stage is not null && e.Stage != stage)
        {
            throw new InvalidLogitsException(e.Row, e.TokenIndex, e.Value, stage);
        }

        foreach (float m in maxima)
        {
            if (float.IsNegativeInfinity(m))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether each row holds a removed (<c>-∞</c>) token, from the finite count of
    /// <see cref="ILogitKernels.RowStatistics"/>; a NaN/<c>+∞</c> is reported under <paramref name="stage"/> (when
    /// given). Returns whether any row does.
    /// </summary>
    public static bool RemovedTokens(LogitBatch x, Span<bool> holdsRemoved, string? stage)
    {
        int rows = x.Rows;
        var statistics = System.Buffers.ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        try
        {
            try
            {
                x.Kernels.RowStatistics(x, RowStatisticKinds.None, statistics.AsSpan(0, rows));
            }
            catch (InvalidLogitsException e) when (stage is not null && e.Stage != stage)
            {
                throw new InvalidLogitsException(e.Row, e.TokenIndex, e.Value, stage);
            }

            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                holdsRemoved[r] = statistics[r].Finite < x.Vocab;
                any |= holdsRemoved[r];
            }

            return any;
        }
        finally
        {
            System.Buffers.ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
        }
    }
}

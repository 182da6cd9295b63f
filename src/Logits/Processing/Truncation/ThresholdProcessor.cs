
namespace Logits.Processing.Truncation;

/// <summary>
/// The truncations that keep every token at or above one threshold per row (epsilon, eta, min-p, top-nσ): one
/// per-row parameter, the row statistic the threshold needs, then <c>minTokensToKeep</c> and the mask.
/// </summary>
/// <remarks>
/// <para>Each subclass states which row statistics it reads (<see cref="RowStatisticKinds"/>, computed by the
/// <see cref="ILogitKernels.RowStatistics"/> kernel on the batch's backend) and how its threshold
/// follows from the statistic, the row maximum and its parameter; the base registers the per-row parameter
/// (so the row count is checked), computes the statistic once per call, and applies
/// <c>keep-at-least-minTokensToKeep</c> and the mask in one place. A threshold is computed in float64 and
/// rounded to float32 once. Every threshold truncation is argmax-invariant.</para>
/// <para>The constructor is not accessible outside the library: the family is closed.</para>
/// </remarks>
public abstract class ThresholdProcessor : LogitProcessor
{
    private protected ThresholdProcessor(PerRow<double> parameter, int minTokensToKeep)
    {
        Parameter = PerRowParameter(parameter);
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public sealed override bool IsArgmaxInvariant => true;

    /// <summary>The per-row parameter (ε, Pmin, n).</summary>
    private protected PerRow<double> Parameter { get; }

    /// <summary>The statistics of the row the threshold needs (<see cref="RowStatisticKinds.None"/>: only the maximum).</summary>
    private protected virtual RowStatisticKinds Statistic => RowStatisticKinds.None;

    /// <summary>Whether a row with this parameter is cut at all (a row that is not is left as it is).</summary>
    private protected virtual bool Cuts(double parameter) => true;

    /// <summary>The threshold of one row, in float64.</summary>
    /// <param name="parameter">The row's parameter.</param>
    /// <param name="rowMax">The row's maximum (finite: empty rows never reach here).</param>
    /// <param name="stats">The statistic asked for by <see cref="Statistic"/>.</param>
    private protected abstract double Threshold(double parameter, float rowMax, in LogitRowStatistics stats);

    /// <summary>
    /// The threshold's offset from the row maximum when it is <c>m + offset</c> with <c>offset ≤ 0</c> (min-p's
    /// <c>ln Pmin</c>), or NaN when it is not of that form. Such a threshold never cuts the maximum, so with
    /// <c>minTokensToKeep = 1</c> the whole rule is one <see cref="ILogitKernels.MaskBelowMaxPlus"/>: no row maxima on
    /// the host.
    /// </summary>
    private protected virtual double OffsetFromMaximum(double parameter) => double.NaN;

    /// <summary>Whether this processor's rule is one <see cref="ILogitKernels.MaskBelowMaxPlus"/>.</summary>
    private bool IsMaxPlusMask => Statistic == RowStatisticKinds.None && MinTokensToKeep == 1 && !double.IsNaN(OffsetFromMaximum(0.5));

    /// <inheritdoc />
    /// <remarks>The fused mask needs neither the maxima nor the empty-row guard (an all-<c>-∞</c> row stays so).</remarks>
    private protected override bool NeedsRowMaxima => !IsMaxPlusMask;

    /// <inheritdoc />
    protected sealed override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            any |= Cuts(Parameter.For(r));
        }

        if (!any)
        {
            return;
        }

        if (IsMaxPlusMask)
        {
            var offsets = LogitProcessorBuffers.RentDoubles(rows);
            try
            {
                for (int r = 0; r < rows; r++)
                {
                    double parameter = Parameter.For(r);
                    offsets[r] = Cuts(parameter) ? OffsetFromMaximum(parameter) : double.NegativeInfinity;
                }

                logits.Kernels.MaskBelowMaxPlus(logits, offsets.AsSpan(0, rows), logits);
            }
            finally
            {
                LogitProcessorBuffers.Return(offsets);
            }

            return;
        }

        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        var statistics = Statistic == RowStatisticKinds.None ? null : ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        try
        {
            if (statistics is not null)
            {
                logits.Kernels.RowStatistics(logits, Statistic, statistics.AsSpan(0, rows));
            }

            for (int r = 0; r < rows; r++)
            {
                double parameter = Parameter.For(r);
                thresholds[r] = Cuts(parameter)
                    ? (float)Threshold(parameter, rowMax[r], statistics is null ? default : statistics[r])
                    : float.NegativeInfinity;
            }

            TruncationRules.KeepAtLeastAndMask(logits, thresholds.AsSpan(0, rows), MinTokensToKeep);
        }
        finally
        {
            LogitProcessorBuffers.Return(thresholds);
            if (statistics is not null)
            {
                ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
            }
        }
    }
}

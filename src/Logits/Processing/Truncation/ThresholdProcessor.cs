using System;
using System.Buffers;
using System.Collections.Generic;
using Logits.Tensors;

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

using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>
/// The truncations that keep every token at or above one threshold per row (epsilon, eta, min-p, top-nσ): one
/// per-row parameter, the row statistic the threshold needs, then <c>minTokensToKeep</c> and the mask.
/// </summary>
/// <remarks>
/// <para>Each subclass states which row statistic it reads (<see cref="RowStatistic"/>) and how its threshold
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
        Parameter = parameter;
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public sealed override bool IsArgmaxInvariant => true;

    /// <summary>The per-row parameter (ε, Pmin, n).</summary>
    private protected PerRow<double> Parameter { get; }

    /// <summary>The statistic of the row the threshold needs.</summary>
    private protected virtual RowStatistic Statistic => RowStatistic.None;

    /// <inheritdoc />
    protected sealed override void EnsureRows(int rows) => Parameter.EnsureRows(rows, Name);

    /// <summary>Whether a row with this parameter is cut at all (a row that is not is left as it is).</summary>
    private protected virtual bool Cuts(double parameter) => true;

    /// <summary>The threshold of one row, in float64.</summary>
    /// <param name="parameter">The row's parameter.</param>
    /// <param name="rowMax">The row's maximum (finite: empty rows never reach here).</param>
    /// <param name="stats">The statistic asked for by <see cref="Statistic"/>.</param>
    private protected abstract double Threshold(double parameter, float rowMax, in RowStats stats);

    /// <inheritdoc />
    protected sealed override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        float[]? row = null;
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                any |= Cuts(Parameter.For(r));
            }

            if (!any)
            {
                return;
            }

            if (Statistic == RowStatistic.LogSumExp)
            {
                logits.Kernels.LogSumExp(logits, thresholds.AsSpan(0, rows));
            }
            else if (Statistic != RowStatistic.None)
            {
                row = LogitProcessorBuffers.RentFloats(logits.Vocab);
            }

            for (int r = 0; r < rows; r++)
            {
                double parameter = Parameter.For(r);
                if (!Cuts(parameter))
                {
                    thresholds[r] = float.NegativeInfinity;
                    continue;
                }

                var stats = Statistic switch
                {
                    RowStatistic.LogSumExp => new RowStats { LogSumExp = thresholds[r] },
                    RowStatistic.None => default,
                    _ => RowStats.Of(logits, r, row!.AsSpan(0, logits.Vocab), Statistic),
                };
                thresholds[r] = (float)Threshold(parameter, rowMax[r], stats);
            }

            TruncationRules.KeepAtLeastAndMask(logits, thresholds.AsSpan(0, rows), MinTokensToKeep);
        }
        finally
        {
            LogitProcessorBuffers.Return(thresholds);
            if (row is not null)
            {
                LogitProcessorBuffers.Return(row);
            }
        }
    }

    /// <summary>Which statistic of a row a threshold needs.</summary>
    private protected enum RowStatistic
    {
        /// <summary>Only the row maximum.</summary>
        None,

        /// <summary>The log-sum-exp (a kernel).</summary>
        LogSumExp,

        /// <summary>The log-sum-exp and the entropy in nats, over the finite tokens.</summary>
        Entropy,

        /// <summary>The number, mean and population standard deviation of the finite tokens.</summary>
        Moments,
    }

    /// <summary>The statistics of one row, in float64.</summary>
    private protected struct RowStats
    {
        public double LogSumExp;
        public double Entropy;
        public double StandardDeviation;
        public int Finite;

        /// <summary>Computes <paramref name="statistic"/> for row <paramref name="r"/> from a host copy of the row.</summary>
        public static RowStats Of(LogitBatch logits, int r, Span<float> z, RowStatistic statistic)
        {
            logits.CopyRowTo(r, z);
            if (statistic == RowStatistic.Entropy)
            {
                double lse = HostRowMath.LogSumExp(z, out int finite, out _);
                return new RowStats { LogSumExp = lse, Entropy = HostRowMath.Entropy(z, lse), Finite = finite };
            }

            // Two passes: Σ(z − mean)² does not cancel catastrophically the way Σz² − |F|·mean² does.
            int count = 0;
            double sum = 0;
            foreach (float value in z)
            {
                if (!float.IsNegativeInfinity(value))
                {
                    count++;
                    sum += value;
                }
            }

            double mean = count == 0 ? 0 : sum / count;
            double squares = 0;
            foreach (float value in z)
            {
                if (!float.IsNegativeInfinity(value))
                {
                    double d = value - mean;
                    squares += d * d;
                }
            }

            return new RowStats { Finite = count, StandardDeviation = count == 0 ? 0 : Math.Sqrt(squares / count) };
        }
    }
}

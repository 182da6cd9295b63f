
namespace Logits.Tensors;

/// <summary>
/// A per-row threshold rule of <see cref="ILogitKernels.MaskBelowRowThreshold"/>:
/// <c>τ = min(m + MaxOffset - StandardDeviations·σ, lse + LogSumExpOffset, lse - H + EntropyOffset)</c>.
/// </summary>
/// <param name="MaxOffset">Added to the row maximum <c>m</c> (<c>+∞</c>: no maximum term).</param>
/// <param name="StandardDeviations">How many population standard deviations <c>σ</c> of the finite logits are subtracted
/// from the maximum term; finite and at least 0 (0: <c>σ</c> is not computed).</param>
/// <param name="LogSumExpOffset">Added to the row's log-sum-exp <c>lse</c> (<c>+∞</c>: no such term).</param>
/// <param name="EntropyOffset">Added to <c>lse - H</c>, <c>H</c> the row's entropy in nats (<c>+∞</c>: no such term).</param>
/// <remarks>
/// In probability terms <c>z_i ≥ lse + b</c> is <c>p_i ≥ e^b</c> and <c>z_i ≥ lse - H + c</c> is <c>p_i ≥ e^(c - H)</c>. No
/// offset may be NaN; an offset of <c>-∞</c> makes the threshold <c>-∞</c> (the row is kept whole). The rules of the
/// built-in truncations are listed under <see cref="ILogitKernels.MaskBelowRowThreshold"/>.
/// </remarks>
public readonly record struct RowThresholdRule(double MaxOffset, double StandardDeviations, double LogSumExpOffset, double EntropyOffset)
{
    /// <summary>A rule whose threshold is <c>-∞</c>: the row is kept whole.</summary>
    public static RowThresholdRule KeepAll { get; } = new(double.NegativeInfinity, 0, double.PositiveInfinity, double.PositiveInfinity);

    /// <summary>Whether the rule reads the log-sum-exp (a log-sum-exp or entropy term is on).</summary>
    internal bool UsesLogSumExp => LogSumExpOffset < double.PositiveInfinity || UsesEntropy;

    /// <summary>Whether the rule reads the entropy.</summary>
    internal bool UsesEntropy => EntropyOffset < double.PositiveInfinity;

    /// <summary>Whether the rule reads the standard deviation.</summary>
    internal bool UsesStandardDeviation => StandardDeviations != 0;

    /// <summary>The statistics this rule needs beyond the maximum.</summary>
    internal RowStatisticKinds Kinds =>
        (UsesEntropy ? RowStatisticKinds.Entropy : UsesLogSumExp ? RowStatisticKinds.LogSumExp : RowStatisticKinds.None)
        | (UsesStandardDeviation ? RowStatisticKinds.Moments : RowStatisticKinds.None);

    /// <summary>The float64 threshold of a non-empty row (the statistics this rule needs must be set).</summary>
    internal double Threshold(double max, double logSumExp, double entropy, double standardDeviation)
    {
        double threshold = MaxOffset < double.PositiveInfinity
            ? max + MaxOffset - (UsesStandardDeviation ? StandardDeviations * standardDeviation : 0)
            : double.PositiveInfinity;
        if (LogSumExpOffset < double.PositiveInfinity)
        {
            threshold = Math.Min(threshold, logSumExp + LogSumExpOffset);
        }

        if (UsesEntropy)
        {
            threshold = Math.Min(threshold, logSumExp - entropy + EntropyOffset);
        }

        return threshold;
    }

    /// <summary>Throws naming <paramref name="paramName"/> and the row unless every rule is valid.</summary>
    internal static void Validate(ReadOnlySpan<RowThresholdRule> rules, string paramName)
    {
        for (int r = 0; r < rules.Length; r++)
        {
            var rule = rules[r];
            if (double.IsNaN(rule.MaxOffset) || double.IsNaN(rule.LogSumExpOffset) || double.IsNaN(rule.EntropyOffset))
            {
                ThrowHelper.ThrowArgumentOutOfRange(paramName, rule, $"must not hold NaN (row {r})");
            }

            if (!(rule.StandardDeviations >= 0) || !double.IsFinite(rule.StandardDeviations))
            {
                ThrowHelper.ThrowArgumentOutOfRange(paramName, rule, $"must have a finite StandardDeviations of at least 0 (row {r})");
            }
        }
    }
}

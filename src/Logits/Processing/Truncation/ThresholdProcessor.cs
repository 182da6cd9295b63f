
namespace Logits.Processing.Truncation;

/// <summary>
/// The truncations that keep every token at or above one threshold per row (epsilon, eta, min-p, top-nσ): one
/// per-row parameter, the row statistic the threshold needs, then <c>minTokensToKeep</c> and the mask.
/// </summary>
/// <remarks>
/// <para>Each subclass states its threshold as a <see cref="RowThresholdRule"/> of its parameter, an affine rule of the
/// row's maximum, log-sum-exp, entropy and standard deviation; the base registers the per-row parameter (so the row
/// count is checked) and hands the rules to one <see cref="ILogitKernels.MaskBelowRowThreshold"/> call, which computes
/// the statistics, the thresholds (in float64, rounded to float32 once), <c>keep-at-least-minTokensToKeep</c> and the
/// mask on the batch's backend (on a device, nothing is read back). Every threshold truncation is argmax-invariant.</para>
/// <para>The constructor is not accessible outside the library: the family is closed.</para>
/// </remarks>
public abstract class ThresholdProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private protected ThresholdProcessor(PerRow<double> parameter, int minTokensToKeep)
        : base(RowMaximaUse.None)
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

    /// <summary>Whether a row with this parameter is cut at all (a row that is not is left as it is).</summary>
    private protected virtual bool Cuts(double parameter) => true;

    /// <summary>
    /// The threshold rule of a row with this parameter: <c>τ = min(m + a - n·σ, lse + b, lse - H + c)</c> in float64 over
    /// the row's statistics (see <see cref="RowThresholdRule"/>), applied on the batch's backend.
    /// </summary>
    /// <param name="parameter">The row's parameter.</param>
    private protected abstract RowThresholdRule Rule(double parameter);

    /// <summary>
    /// The threshold's offset from the row maximum when it is <c>m + offset</c> with <c>offset ≤ 0</c> (min-p's
    /// <c>ln Pmin</c>), or NaN when it is not of that form. Such a threshold never cuts the maximum, so with
    /// <c>minTokensToKeep = 1</c> the whole rule is one <see cref="ILogitKernels.MaskBelowMaxPlus"/>: no row maxima on
    /// the host.
    /// </summary>
    private protected virtual double OffsetFromMaximum(double parameter) => double.NaN;

    /// <summary>Whether this processor's rule is one <see cref="ILogitKernels.MaskBelowMaxPlus"/>.</summary>
    private bool IsMaxPlusMask => MinTokensToKeep == 1 && !double.IsNaN(OffsetFromMaximum(0.5));

    /// <inheritdoc />
    protected sealed override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            any |= Cuts(Parameter.For(logits.RowOffset + r));
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
                    double parameter = Parameter.For(logits.RowOffset + r);
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

        var rules = ArrayPool<RowThresholdRule>.Shared.Rent(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                double parameter = Parameter.For(logits.RowOffset + r);
                rules[r] = Cuts(parameter) ? Rule(parameter) : RowThresholdRule.KeepAll;
            }

            // The statistics, the threshold, keep-at-least and the mask in one kernel: on a device nothing is read back.
            logits.Kernels.MaskBelowRowThreshold(logits, rules.AsSpan(0, rows), MinTokensToKeep, logits);
        }
        finally
        {
            ArrayPool<RowThresholdRule>.Shared.Return(rules);
        }
    }
}

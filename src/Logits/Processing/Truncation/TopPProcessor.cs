
namespace Logits.Processing.Truncation;

/// <summary>Top-p (nucleus): keeps the shortest rank-order prefix whose probability mass reaches <c>P</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#top-p, inclusive form): walking the finite tokens by value descending with a float64
/// running mass, <c>n</c> is the smallest count whose mass is <c>≥ P - 1e-6</c> (library decision: a prefix
/// that reaches <c>P</c> exactly in real numbers stops there whatever the float32 rounding), raised to
/// <c>min(minTokensToKeep, |F|)</c>; keep <c>z_i ≥</c> the n-th value, so tie groups stay whole. <c>P = 0</c>
/// keeps the top tie group; <c>P = 1</c> is a no-op. No sort on the CPU: the kernel bins the exp mass
/// by value in one vectorised pass and refines only the bin that straddles the target. Argmax-invariant.
/// </remarks>
public sealed class TopPProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="p">P in <c>[0, 1]</c>, for every row or per row, held as float64 exactly as given.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="mode">The boundary rule: <see cref="TopPMode.Inclusive"/> (default) or HF's float32 complement.</param>
    /// <exception cref="ArgumentOutOfRangeException">A P is outside <c>[0, 1]</c> or NaN, <paramref name="minTokensToKeep"/> is below 1, or <paramref name="mode"/> is undefined.</exception>
    public TopPProcessor(PerRow<double> p, int minTokensToKeep = 1, TopPMode mode = TopPMode.Inclusive)
        : base(RowMaximaUse.None)
    {
        if (mode is not (TopPMode.Inclusive or TopPMode.HfComplement))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "must be Inclusive or HfComplement");
        }

        Mode = mode;
        foreach (double value in p.Values())
        {
            if (!(value >= 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(p), value, "must be in [0, 1]");
            }
        }

        P = PerRowParameter(p);
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>P, for every row or per row.</summary>
    public PerRow<double> P { get; }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <summary>The boundary rule.</summary>
    public TopPMode Mode { get; }

    /// <inheritdoc />
    public override string Name => "top-p";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var p = LogitProcessorBuffers.RentDoubles(rows);
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                p[r] = P.For(logits.RowOffset + r);
                any |= p[r] < 1;
            }

            if (!any)
            {
                return;
            }

            if (Mode == TopPMode.HfComplement)
            {
                // One fused mask, which leaves an empty row as it is: a device backend keeps the thresholds on the device.
                logits.Kernels.MaskBelowTopPComplement(logits, p.AsSpan(0, rows), MinTokensToKeep, logits);
            }
            else if (rowMax.IsEmpty)
            {
                // Inside a pipeline call (entries checked, no maxima asked for): one fused mask, which leaves an empty
                // row as it is, so a device backend keeps the thresholds on the device.
                logits.Kernels.MaskBelowTopP(logits, p.AsSpan(0, rows), MinTokensToKeep, logits);
            }
            else
            {
                // Called on its own: the base has checked the rows (and guards empty ones), so the threshold kernel
                // needs no second maximum pass.
                logits.Kernels.TopPThreshold(logits, p.AsSpan(0, rows), MinTokensToKeep, thresholds.AsSpan(0, rows));
                logits.Kernels.MaskBelow(logits, thresholds.AsSpan(0, rows), logits);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(p);
            LogitProcessorBuffers.Return(thresholds);
        }
    }
}

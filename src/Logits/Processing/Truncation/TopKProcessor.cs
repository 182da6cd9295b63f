
namespace Logits.Processing.Truncation;

/// <summary>How top-k treats tokens tied with the k-th largest value.</summary>
public enum TopKTieMode
{
    /// <summary>Keep every token tied with the k-th value (HF and vLLM; a pure function of values). Default.</summary>
    IncludeTies,

    /// <summary>Keep exactly k tokens: among ties at the boundary, lower ids win.</summary>
    ExactK,
}

/// <summary>Top-k: keeps the k largest logits (and, by default, every token tied with the k-th).</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#top-k): <c>k = max(K, minTokensToKeep)</c>; <c>τ</c> = the k-th largest finite
/// value; keep <c>z_i ≥ τ</c>. A <c>K</c> at or above the number of finite tokens is a no-op. Computed by
/// threshold selection, never a full sort. Argmax-invariant.
/// </remarks>
public sealed class TopKProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="k">K ≥ 1, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="tieMode">How ties at the boundary are treated.</param>
    /// <exception cref="ArgumentOutOfRangeException">A K is below 1, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TopKProcessor(PerRow<int> k, int minTokensToKeep = 1, TopKTieMode tieMode = TopKTieMode.IncludeTies)
        : base(RowMaximaUse.None)
    {
        foreach (int value in k.Values())
        {
            if (value < 1)
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(k), value, "must be at least 1 (to disable top-k, leave it out of the pipeline)");
            }
        }

        if (tieMode is not (TopKTieMode.IncludeTies or TopKTieMode.ExactK))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(tieMode), tieMode, "must be IncludeTies or ExactK");
        }

        K = PerRowParameter(k);
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
        TieMode = tieMode;
    }

    /// <summary>K, for every row or per row.</summary>
    public PerRow<int> K { get; }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <summary>How ties at the boundary are treated.</summary>
    public TopKTieMode TieMode { get; }

    /// <inheritdoc />
    public override string Name => "top-k";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var k = LogitProcessorBuffers.RentInts(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                k[r] = (int)Math.Min((long)Math.Max(K.For(logits.RowOffset + r), MinTokensToKeep), logits.Vocab);
                any |= k[r] < logits.Vocab;
            }

            if (!any)
            {
                return;
            }

            // One fused mask either way: a device backend keeps the thresholds on the device.
            if (TieMode == TopKTieMode.ExactK)
            {
                logits.Kernels.MaskExceptTopK(logits, k.AsSpan(0, rows), logits);
            }
            else
            {
                logits.Kernels.MaskBelowKthLargest(logits, k.AsSpan(0, rows), logits);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(k);
        }
    }
}

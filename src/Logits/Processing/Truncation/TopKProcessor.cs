
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
    /// <summary>Creates the processor.</summary>
    /// <param name="k">K ≥ 1, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="tieMode">How ties at the boundary are treated.</param>
    /// <exception cref="ArgumentOutOfRangeException">A K is below 1, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TopKProcessor(PerRow<int> k, int minTokensToKeep = 1, TopKTieMode tieMode = TopKTieMode.IncludeTies)
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

    /// <summary>The empty-row guard only: <c>rowMax</c> is not read, so a device backend keeps the guard on its device.</summary>
    private protected override bool ReadsRowMaxima => false;

    /// <summary>
    /// Ties kept: the fused mask leaves an all-<c>-∞</c> row as it is, so inside a pipeline call (entries checked) no
    /// row maxima are needed. ExactK reads rows on the host and keeps the empty-row guard.
    /// </summary>
    private protected override bool NeedsRowMaxima => TieMode == TopKTieMode.ExactK;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var k = LogitProcessorBuffers.RentInts(rows);
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                k[r] = (int)Math.Min((long)Math.Max(K.For(r), MinTokensToKeep), logits.Vocab);
                any |= k[r] < logits.Vocab;
            }

            if (!any)
            {
                return;
            }

            if (TieMode == TopKTieMode.ExactK)
            {
                logits.Kernels.KthLargest(logits, k.AsSpan(0, rows), thresholds.AsSpan(0, rows));
                logits.Kernels.MaskBelow(logits, thresholds.AsSpan(0, rows), logits);
                DropExcessTies(logits, k, thresholds);
            }
            else
            {
                // One fused mask: a device backend keeps the thresholds on the device.
                logits.Kernels.MaskBelowKthLargest(logits, k.AsSpan(0, rows), logits);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(k);
            LogitProcessorBuffers.Return(thresholds);
        }
    }

    /// <summary>ExactK: where ties at τ leave more than k tokens, removes the tied tokens with the highest ids.</summary>
    private static void DropExcessTies(LogitBatch logits, int[] k, float[] thresholds)
    {
        var row = LogitProcessorBuffers.RentFloats(logits.Vocab);
        try
        {
            var removed = new List<int>();
            for (int r = 0; r < logits.Rows; r++)
            {
                if (float.IsNegativeInfinity(thresholds[r]))
                {
                    continue;
                }

                logits.CopyRowTo(r, row);
                int above = 0;
                for (int i = 0; i < logits.Vocab; i++)
                {
                    if (row[i] > thresholds[r])
                    {
                        above++;
                    }
                }

                int tiesToKeep = k[r] - above;
                for (int i = 0; i < logits.Vocab; i++)
                {
                    if (row[i] == thresholds[r] && tiesToKeep-- <= 0)
                    {
                        removed.Add((r * logits.Vocab) + i);
                    }
                }
            }

            if (removed.Count == 0)
            {
                return;
            }

            // Scatter takes the same number of ids per row: pad the other rows with -1.
            var perRow = new int[logits.Rows];
            foreach (int flat in removed)
            {
                perRow[flat / logits.Vocab]++;
            }

            int width = 0;
            foreach (int count in perRow)
            {
                width = Math.Max(width, count);
            }

            var ids = new int[logits.Rows * width];
            Array.Fill(ids, -1);
            var filled = new int[logits.Rows];
            foreach (int flat in removed)
            {
                int r = flat / logits.Vocab;
                ids[(r * width) + filled[r]++] = flat % logits.Vocab;
            }

            var values = new float[ids.Length];
            Array.Fill(values, float.NegativeInfinity);
            logits.Kernels.Scatter(logits, ids, values);
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
        }
    }
}

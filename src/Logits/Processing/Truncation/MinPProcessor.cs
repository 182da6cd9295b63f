using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>Min-p: keeps tokens whose probability is at least <c>Pmin</c> times the top probability.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#min-p; text-generation-webui PR #4449, llama.cpp PR #3841): keep
/// <c>p_i ≥ Pmin·p_max</c>, computed without exp or sort as <c>z_i ≥ m + ln Pmin</c> (the threshold in
/// float64, rounded to float32 once). Inclusive. <c>Pmin = 0</c> is a no-op; <c>Pmin = 1</c> keeps only
/// values equal to the maximum. Argmax-invariant.
/// </remarks>
public sealed class MinPProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="minP">Pmin in <c>[0, 1]</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A Pmin is outside <c>[0, 1]</c> or NaN, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public MinPProcessor(PerRow<double> minP, int minTokensToKeep = 1)
    {
        foreach (double value in minP.Values())
        {
            if (!(value >= 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(minP), value, "must be in [0, 1]");
            }
        }

        MinP = minP;
        MinTokensToKeep = Truncation.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>Pmin, for every row or per row.</summary>
    public PerRow<double> MinP { get; }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public override string Name => "min-p";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void EnsureRows(int rows) => MinP.EnsureRows(rows, Name);

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                double pMin = MinP.For(r);

                // ln 0 = -inf: Pmin = 0 keeps everything.
                thresholds[r] = (float)(rowMax[r] + Math.Log(pMin));
                any |= pMin > 0;
            }

            if (any)
            {
                Truncation.KeepAtLeastAndMask(logits, thresholds.AsSpan(0, rows), MinTokensToKeep);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(thresholds);
        }
    }
}

using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>Top-nσ: keeps the logits within <c>n</c> standard deviations of the maximum.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#top-n-sigma; Tang et al., "Top-nσ: Not All Logits Are You Need", arXiv 2411.07641;
/// llama.cpp <c>top_n_sigma</c>): over the finite tokens only, compute the mean and the <b>population</b>
/// standard deviation <c>σ</c> (divided by <c>|F|</c>, as llama.cpp does) in float64 (two passes, on the host);
/// keep <c>z_i ≥ m − n·σ</c>, rounded to float32 once, then honour <c>minTokensToKeep</c> by value. A no-op when
/// <c>|F| ≤ 1</c>. The kept set does not change under temperature, but depends on which tokens are still
/// finite, so presets run it before the other truncations. Argmax-invariant.
/// </remarks>
public sealed class TopNSigmaProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="n">n &gt; 0 and finite, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An n is not finite and positive, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TopNSigmaProcessor(PerRow<double> n, int minTokensToKeep = 1)
    {
        foreach (double value in n.Values())
        {
            if (!(value > 0) || !double.IsFinite(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(n), value, "must be finite and greater than 0 (to disable top-nσ, leave it out of the pipeline)");
            }
        }

        N = n;
        MinTokensToKeep = Truncation.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>n, for every row or per row.</summary>
    public PerRow<double> N { get; }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public override string Name => "top-n-sigma";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void EnsureRows(int rows) => N.EnsureRows(rows, Name);

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        var row = LogitProcessorBuffers.RentFloats(vocab);
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var z = row.AsSpan(0, vocab);
                logits.CopyRowTo(r, z);
                thresholds[r] = Threshold(z, N.For(r));
            }

            Truncation.KeepAtLeastAndMask(logits, thresholds.AsSpan(0, rows), MinTokensToKeep);
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
            LogitProcessorBuffers.Return(thresholds);
        }
    }

    private static float Threshold(ReadOnlySpan<float> z, double n)
    {
        int count = 0;
        double sum = 0;
        float max = float.NegativeInfinity;
        foreach (float value in z)
        {
            if (!float.IsNegativeInfinity(value))
            {
                count++;
                sum += value;
                max = Math.Max(max, value);
            }
        }

        if (count <= 1)
        {
            return float.NegativeInfinity;
        }

        // Two passes: Σ(z - mean)² does not cancel catastrophically the way Σz² - |F|·mean² does.
        double mean = sum / count;
        double squares = 0;
        foreach (float value in z)
        {
            if (!float.IsNegativeInfinity(value))
            {
                double d = value - mean;
                squares += d * d;
            }
        }

        double sigma = Math.Sqrt(squares / count);
        return (float)(max - (n * sigma));
    }
}

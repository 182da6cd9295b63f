
namespace Logits.Processing.Truncation;

/// <summary>Top-nσ: keeps the logits within <c>n</c> standard deviations of the maximum.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#top-n-sigma; Tang et al., "Top-nσ: Not All Logits Are You Need", arXiv 2411.07641;
/// llama.cpp <c>top_n_sigma</c>): over the finite tokens only, compute the mean and the <b>population</b>
/// standard deviation <c>σ</c> (divided by <c>|F|</c>, as llama.cpp does) in float64 (two passes, by the
/// <see cref="ILogitKernels.MaskBelowRowThreshold"/> kernel on the batch's backend);
/// keep <c>z_i ≥ m − n·σ</c>, rounded to float32 once, then honour <c>minTokensToKeep</c> by value. A no-op when
/// <c>|F| ≤ 1</c>. The kept set does not change under temperature, but depends on which tokens are still
/// finite, so presets run it before the other truncations. Argmax-invariant.
/// </remarks>
public sealed class TopNSigmaProcessor : ThresholdProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="n">n &gt; 0 and finite, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An n is not finite and positive, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TopNSigmaProcessor(PerRow<double> n, int minTokensToKeep = 1)
        : base(Check(n), minTokensToKeep)
    {
    }

    /// <summary>n, for every row or per row.</summary>
    public PerRow<double> N => Parameter;

    /// <inheritdoc />
    public override string Name => "top-n-sigma";

    // m - n·σ. A row with one finite token has σ = 0 and keeps it: nothing is cut.
    private protected override RowThresholdRule Rule(double parameter) =>
        new(0, parameter, double.PositiveInfinity, double.PositiveInfinity);

    private static PerRow<double> Check(PerRow<double> n)
    {
        foreach (double value in n.Values())
        {
            if (!(value > 0) || !double.IsFinite(value))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(n), value, "must be finite and greater than 0 (to disable top-nσ, leave it out of the pipeline)");
            }
        }

        return n;
    }
}

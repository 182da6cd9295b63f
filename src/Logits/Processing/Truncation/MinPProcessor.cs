
namespace Logits.Processing.Truncation;

/// <summary>Min-p: keeps tokens whose probability is at least <c>Pmin</c> times the top probability.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#min-p; text-generation-webui PR #4449, llama.cpp PR #3841): keep
/// <c>p_i ≥ Pmin·p_max</c>, computed without exp or sort as <c>z_i ≥ m + ln Pmin</c> (the threshold in
/// float64, rounded to float32 once). Inclusive. <c>Pmin = 0</c> is a no-op; <c>Pmin = 1</c> keeps only
/// values equal to the maximum. Argmax-invariant.
/// </remarks>
public sealed class MinPProcessor : ThresholdProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="minP">Pmin in <c>[0, 1]</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A Pmin is outside <c>[0, 1]</c> or NaN, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public MinPProcessor(PerRow<double> minP, int minTokensToKeep = 1)
        : base(Check(minP), minTokensToKeep)
    {
    }

    /// <summary>Pmin, for every row or per row.</summary>
    public PerRow<double> MinP => Parameter;

    /// <inheritdoc />
    public override string Name => "min-p";

    // Pmin = 0 keeps everything (ln 0 = -inf): such a row is not cut.
    private protected override bool Cuts(double parameter) => parameter > 0;

    private protected override RowThresholdRule Rule(double parameter) =>
        new(Math.Log(parameter), 0, double.PositiveInfinity, double.PositiveInfinity);

    /// <inheritdoc />
    private protected override double OffsetFromMaximum(double parameter) => Math.Log(parameter);

    private static PerRow<double> Check(PerRow<double> minP)
    {
        foreach (double value in minP.Values())
        {
            if (!(value >= 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(minP), value, "must be in [0, 1]");
            }
        }

        return minP;
    }
}

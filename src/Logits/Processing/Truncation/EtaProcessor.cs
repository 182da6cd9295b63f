
namespace Logits.Processing.Truncation;

/// <summary>Eta sampling: an entropy-adaptive epsilon cut, <c>η = min(ε, √ε·e^(−H))</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#eta; Hewitt et al., arXiv 2210.15191; HF <c>EtaLogitsWarper</c>): with <c>H</c> the
/// row's entropy in nats, <c>η = min(ε, √ε·exp(−H))</c>; keep <c>p_i ≥ η</c>, i.e. <c>z_i ≥ lse + ln η</c>, then
/// honour <c>minTokensToKeep</c> by value. A flat (high-entropy) row gets a lower cut than plain epsilon.
/// <c>lse</c>, <c>H</c> and the threshold <c>min(lse + ln ε, lse − H + ½ ln ε)</c> are float64, computed with the mask by
/// one <see cref="ILogitKernels.MaskBelowRowThreshold"/> call on the batch's backend (on a device nothing is read back);
/// the threshold is rounded to float32 once. Argmax-invariant.
/// </remarks>
public sealed class EtaProcessor : ThresholdProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="epsilon">ε in <c>(0, 1)</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An ε is outside <c>(0, 1)</c> or NaN, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public EtaProcessor(PerRow<double> epsilon, int minTokensToKeep = 1)
        : base(EpsilonProcessor.CheckEpsilon(epsilon), minTokensToKeep)
    {
    }

    /// <summary>ε, for every row or per row.</summary>
    public PerRow<double> Epsilon => Parameter;

    /// <inheritdoc />
    public override string Name => "eta";

    /// <summary>η for a row of entropy <paramref name="entropy"/>.</summary>
    internal static double Eta(double epsilon, double entropy) => Math.Min(epsilon, Math.Sqrt(epsilon) * Math.Exp(-entropy));

    // ln η = min(ln ε, ½ ln ε - H): z_i ≥ lse + ln η is min(lse + ln ε, lse - H + ½ ln ε), one affine rule each. The
    // kernel's keep-at-least caps the cut at the row maximum, so a cut above every token keeps the top one.
    private protected override RowThresholdRule Rule(double parameter) =>
        new(double.PositiveInfinity, 0, Math.Log(parameter), 0.5 * Math.Log(parameter));
}

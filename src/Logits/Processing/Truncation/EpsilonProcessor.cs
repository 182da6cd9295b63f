
namespace Logits.Processing.Truncation;

/// <summary>Epsilon sampling: keeps tokens whose probability is at least <c>ε</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#epsilon; Hewitt et al., "Truncation Sampling as Language Model Desmoothing",
/// arXiv 2210.15191; HF <c>EpsilonLogitsWarper</c>): keep <c>p_i ≥ ε</c>, computed without a softmax as
/// <c>z_i ≥ lse + ln ε</c> (the row's log-sum-exp from the kernel, the threshold in float64 rounded to float32
/// once), then honour <c>minTokensToKeep</c> by value. <c>ε ∈ (0, 1)</c> as in HF; the paper's useful range is
/// about 3e-4 to 9e-4. Argmax-invariant: when even the top token is below <c>ε</c> (a flat row over a large
/// vocabulary), <c>minTokensToKeep ≥ 1</c> keeps it.
/// </remarks>
public sealed class EpsilonProcessor : ThresholdProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="epsilon">ε in <c>(0, 1)</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An ε is outside <c>(0, 1)</c> or NaN, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public EpsilonProcessor(PerRow<double> epsilon, int minTokensToKeep = 1)
        : base(CheckEpsilon(epsilon), minTokensToKeep)
    {
    }

    /// <summary>ε, for every row or per row.</summary>
    public PerRow<double> Epsilon => Parameter;

    /// <inheritdoc />
    public override string Name => "epsilon";

    /// <summary>Checks that every ε is in <c>(0, 1)</c> (also for <see cref="EtaProcessor"/>).</summary>
    internal static PerRow<double> CheckEpsilon(PerRow<double> epsilon)
    {
        foreach (double value in epsilon.Values())
        {
            if (!(value > 0 && value < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), value, "must be in (0, 1)");
            }
        }

        return epsilon;
    }

    // ln p_i ≥ ln ε  ⇔  z_i ≥ lse + ln ε. When even the top token is below ε the kernel's keep-at-least caps the cut
    // at the row maximum, so the row is never emptied.
    private protected override RowThresholdRule Rule(double parameter) =>
        new(double.PositiveInfinity, 0, Math.Log(parameter), double.PositiveInfinity);
}

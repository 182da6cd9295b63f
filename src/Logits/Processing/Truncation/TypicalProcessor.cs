
namespace Logits.Processing.Truncation;

/// <summary>How the typical cut compares the running mass with <see cref="TypicalProcessor.Mass"/>.</summary>
public enum TypicalBoundary
{
    /// <summary>Stop at the first count whose mass is <c>≥ Mass</c> (Hugging Face). Default.</summary>
    Inclusive,

    /// <summary>Stop at the first count whose mass is <c>&gt; Mass</c> (llama.cpp).</summary>
    Strict,
}

/// <summary>
/// Locally typical sampling: keeps the tokens whose surprisal is closest to the row's entropy, up to a
/// probability mass.
/// </summary>
/// <remarks>
/// <para>Rule (docs/algorithms/truncation.md#typical; Meister et al., "Locally Typical Sampling", arXiv 2202.00666):</para>
/// <list type="number">
/// <item>Score every finite token <c>s_i = |-ln p_i - H|</c> (<c>H</c> the entropy in nats); filtered tokens score <c>+∞</c>.</item>
/// <item>Order by <c>s</c> ascending (then id) and accumulate <c>p</c> in float64: <c>n</c> is the smallest count
/// with mass <c>≥ Mass</c> (<c>&gt; Mass</c> with <see cref="TypicalBoundary.Strict"/>); if none reaches it, <c>n = |F|</c>.</item>
/// <item><c>n ← max(n, min(minTokensToKeep, |F|))</c>: <c>minTokensToKeep</c> counts in typicality order, as in
/// Hugging Face and llama.cpp (not by value, as the other truncations do).</item>
/// <item>Keep every token with <c>s_i ≤ s_(n)</c>, so tokens tied in score stay together.</item>
/// </list>
/// <para><c>Mass = 1</c> is a no-op. Not argmax-invariant: a very confident top token is atypical and may be
/// dropped (the <c>Mass = 0.2</c> example of docs/algorithms/truncation.md#typical). Scores, entropy and the mass are float64 (a full sort of the finite tokens, as in both
/// reference projects). Because <c>s</c> is a valley-shaped function of the logit, the kept set is a band of values;
/// band and mask are one <see cref="ILogitKernels.MaskOutsideTypical"/> call on the batch's backend (on a device, nothing
/// is read back).</para>
/// </remarks>
public sealed class TypicalProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="mass">The typical mass in <c>(0, 1]</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1, counted in typicality order.</param>
    /// <param name="boundary">Inclusive (HF, default) or strict (llama.cpp) comparison with the mass.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mass is outside <c>(0, 1]</c> or NaN, <paramref name="boundary"/>
    /// is not defined, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TypicalProcessor(PerRow<double> mass, int minTokensToKeep = 1, TypicalBoundary boundary = TypicalBoundary.Inclusive)
        : base(RowMaximaUse.None)
    {
        foreach (double value in mass.Values())
        {
            if (!(value > 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mass), value, "must be in (0, 1]");
            }
        }

        if (boundary is not (TypicalBoundary.Inclusive or TypicalBoundary.Strict))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(boundary), boundary, "must be Inclusive or Strict");
        }

        Mass = PerRowParameter(mass);
        Boundary = boundary;
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>The typical mass, for every row or per row.</summary>
    public PerRow<double> Mass { get; }

    /// <summary>How the running mass is compared with <see cref="Mass"/>.</summary>
    public TypicalBoundary Boundary { get; }

    /// <summary>The minimum number of tokens kept, counted in typicality order.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public override string Name => "typical";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            any |= Mass.For(logits.RowOffset + r) < 1;
        }

        if (!any)
        {
            return;
        }

        var mass = LogitProcessorBuffers.RentDoubles(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                mass[r] = Mass.For(logits.RowOffset + r);
            }

            // Band and mask in one kernel: on a device the band never crosses to the host.
            logits.Kernels.MaskOutsideTypical(logits, mass.AsSpan(0, rows), MinTokensToKeep, Boundary == TypicalBoundary.Strict, logits);
        }
        finally
        {
            LogitProcessorBuffers.Return(mass);
        }
    }

}

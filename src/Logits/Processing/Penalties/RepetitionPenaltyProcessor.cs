
namespace Logits.Processing.Penalties;

/// <summary>Repetition penalty: divides the positive logits and multiplies the negative logits of tokens seen in the history by θ.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/penalties.md#repetition-penalty; Keskar et al., CTRL, arXiv 1909.05858, with Hugging Face's
/// <c>RepetitionPenaltyLogitsProcessor</c> semantics): for each <b>distinct</b> token <c>t</c> in the window,
/// applied once however often it occurs, <c>z_t ← z_t/θ</c> if <c>z_t &gt; 0</c>, else <c>z_t ← z_t·θ</c>
/// (0 stays 0, <c>-∞</c> stays <c>-∞</c>). The sign split matters: dividing a negative logit would raise its
/// probability. <c>θ = 1</c> is a no-op, <c>θ &gt; 1</c> discourages repeats, <c>θ &lt; 1</c> encourages them.</para>
/// <para>The window is the <see cref="Scope"/> of the history (<see cref="PenaltyScope.PromptAndOutput"/> by
/// default, as HF and vLLM), restricted to its last <see cref="Window"/> tokens when <see cref="Window"/> ≥ 1
/// (llama.cpp uses 64). Negative history ids are padding: they are skipped and do not occupy window slots
/// (library decision). A history id ≥ V inside the window throws <see cref="ArgumentOutOfRangeException"/>.</para>
/// <para>With <see cref="NormalizeFirst"/> (HF's <c>normalize</c>), every row is first replaced by its stable
/// log-softmax (all values ≤ 0), so every penalised token is multiplied by θ.</para>
/// <para>Sparse: the distinct ids come from one scan of the window on the host; one
/// <see cref="ILogitKernels.PenalizeTokens"/> call rewrites their values in float64 on the batch's backend and rounds
/// once (a result below <c>-float.MaxValue</c> becomes <c>-∞</c>; one above <c>float.MaxValue</c>, e.g. a huge logit
/// divided by a tiny θ, throws <see cref="InvalidLogitsException"/> with this processor's stage, or the kernel's stage
/// <c>"penalize"</c> inside an unchecked pipeline call). Not argmax-invariant; the result depends on the sign of the raw
/// logit, so adding a constant to a row changes it (docs/algorithms/conventions.md#constants).</para>
/// </remarks>
public sealed class RepetitionPenaltyProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="penalty">θ, finite and greater than 0, for every row or per row.</param>
    /// <param name="scope">Which part of the history is read.</param>
    /// <param name="window"><c>-1</c> for the whole scope, or the number N ≥ 1 of last tokens read.</param>
    /// <param name="normalizeFirst">Replace every row by its log-softmax before penalising.</param>
    /// <exception cref="ArgumentOutOfRangeException">θ is not finite and positive, the scope is undefined, or
    /// <paramref name="window"/> is 0 or below -1.</exception>
    public RepetitionPenaltyProcessor(PerRow<double> penalty, PenaltyScope scope = PenaltyScope.PromptAndOutput, int window = -1, bool normalizeFirst = false)
        : base(normalizeFirst ? RowMaximaUse.GuardOnly : RowMaximaUse.None)
    {
        Penalty = PerRowParameter(CountPenalties.ValidateRepetition(penalty, nameof(penalty)));
        Scope = PenaltyHistory.ValidateScope(scope, nameof(scope));
        Window = PenaltyHistory.ValidateWindow(window, nameof(window));
        NormalizeFirst = normalizeFirst;
    }

    /// <summary>θ, for every row or per row.</summary>
    public PerRow<double> Penalty { get; }

    /// <summary>Which part of the history is read.</summary>
    public PenaltyScope Scope { get; }

    /// <summary><c>-1</c> (whole scope) or the number of last non-padding tokens read.</summary>
    public int Window { get; }

    /// <summary>Whether every row is replaced by its log-softmax first.</summary>
    public bool NormalizeFirst { get; }

    /// <inheritdoc />
    public override string Name => "repetition-penalty";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A history id in the window is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        CountPenalties.Apply(logits, contexts, Penalty, Scope, 0.0, 0.0, Scope, Window, NormalizeFirst, Name);
}

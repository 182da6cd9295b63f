
namespace Logits.Processing.Penalties;

/// <summary>The combined penalties: repetition first, then frequency and presence, from one scan of the history.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/penalties.md#combined-penalties, in the order of llama.cpp's <c>penalties</c> sampler and vLLM): for each
/// distinct token of the repetition window, <c>z_t ← z_t/θ</c> if <c>z_t &gt; 0</c> else <c>z_t·θ</c>; then
/// <c>z_t ← z_t − c_t·α_f − [c_t &gt; 0]·α_p</c> with <c>c_t</c> counted in the frequency/presence window.
/// Equal to <see cref="RepetitionPenaltyProcessor"/> followed by <see cref="FrequencyPresencePenaltyProcessor"/>
/// with the same settings, but the window is scanned once and the touched values travel once.</para>
/// <para>The two penalties keep their own scopes (defaults as in vLLM: repetition over prompt and output,
/// frequency/presence over the output) and share one <see cref="Window"/> (llama.cpp applies all three to its
/// last 64 accepted tokens: pass <c>window: 64</c> and both scopes <see cref="PenaltyScope.PromptAndOutput"/>).
/// Padding is skipped and occupies no window slot; a history id ≥ V inside a window throws
/// <see cref="ArgumentOutOfRangeException"/>. Evaluated in float64 and rounded once (a result below
/// <c>-float.MaxValue</c> becomes <c>-∞</c>). Not argmax-invariant.</para>
/// </remarks>
public sealed class PenaltiesProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="repetitionPenalty">θ, finite and greater than 0 (1 = off), for every row or per row.</param>
    /// <param name="frequencyPenalty">α_f, finite (0 = off), for every row or per row.</param>
    /// <param name="presencePenalty">α_p, finite (0 = off), for every row or per row.</param>
    /// <param name="window"><c>-1</c> for the whole scopes, or the number N ≥ 1 of last tokens read.</param>
    /// <param name="repetitionScope">The history the repetition penalty reads.</param>
    /// <param name="frequencyPresenceScope">The history the frequency and presence penalties read.</param>
    /// <param name="normalizeFirst">Replace every row by its log-softmax first (repetition then always multiplies).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (see the individual processors).</exception>
    public PenaltiesProcessor(
        PerRow<double> repetitionPenalty,
        PerRow<double> frequencyPenalty,
        PerRow<double> presencePenalty,
        int window = -1,
        PenaltyScope repetitionScope = PenaltyScope.PromptAndOutput,
        PenaltyScope frequencyPresenceScope = PenaltyScope.OutputOnly,
        bool normalizeFirst = false)
        : base(normalizeFirst ? RowMaximaUse.GuardOnly : RowMaximaUse.None)
    {
        RepetitionPenalty = PerRowParameter(CountPenalties.ValidateRepetition(repetitionPenalty, nameof(repetitionPenalty)));
        FrequencyPenalty = PerRowParameter(CountPenalties.ValidateAdditive(frequencyPenalty, nameof(frequencyPenalty)));
        PresencePenalty = PerRowParameter(CountPenalties.ValidateAdditive(presencePenalty, nameof(presencePenalty)));
        Window = PenaltyHistory.ValidateWindow(window, nameof(window));
        RepetitionScope = PenaltyHistory.ValidateScope(repetitionScope, nameof(repetitionScope));
        FrequencyPresenceScope = PenaltyHistory.ValidateScope(frequencyPresenceScope, nameof(frequencyPresenceScope));
        NormalizeFirst = normalizeFirst;
    }

    /// <summary>θ, for every row or per row.</summary>
    public PerRow<double> RepetitionPenalty { get; }

    /// <summary>α_f, for every row or per row.</summary>
    public PerRow<double> FrequencyPenalty { get; }

    /// <summary>α_p, for every row or per row.</summary>
    public PerRow<double> PresencePenalty { get; }

    /// <summary><c>-1</c> (whole scopes) or the number of last non-padding tokens read.</summary>
    public int Window { get; }

    /// <summary>The history the repetition penalty reads.</summary>
    public PenaltyScope RepetitionScope { get; }

    /// <summary>The history the frequency and presence penalties read.</summary>
    public PenaltyScope FrequencyPresenceScope { get; }

    /// <summary>Whether every row is replaced by its log-softmax first.</summary>
    public bool NormalizeFirst { get; }

    /// <inheritdoc />
    public override string Name => "penalties";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A history id in a window is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        CountPenalties.Apply(logits, contexts, RepetitionPenalty, RepetitionScope, FrequencyPenalty, PresencePenalty, FrequencyPresenceScope, Window, NormalizeFirst, Name);
}

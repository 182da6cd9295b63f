
namespace Logits.Processing.Penalties;

/// <summary>Frequency and presence penalties: subtract <c>c_t·α_f + [c_t &gt; 0]·α_p</c> from each token seen <c>c_t</c> times.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/penalties.md#frequency-and-presence; OpenAI's additive penalties, as in vLLM and llama.cpp):
/// <c>z_t ← z_t − c_t·α_f − [c_t &gt; 0]·α_p</c>, where <c>c_t</c> counts <c>t</c> in the window. Both
/// coefficients may be any finite value (negative values encourage); the OpenAI range <c>[-2, 2]</c> belongs to
/// the chat-options mapping, not here. <c>-∞</c> stays <c>-∞</c>.</para>
/// <para>The window is the <see cref="Scope"/> of the history (<see cref="PenaltyScope.OutputOnly"/> by default,
/// as OpenAI and vLLM), restricted to its last <see cref="Window"/> tokens when <see cref="Window"/> ≥ 1.
/// Padding (negative ids) is skipped and occupies no window slot; a history id ≥ V inside the window throws
/// <see cref="ArgumentOutOfRangeException"/>.</para>
/// <para>Evaluated in float64 and rounded once: a result below <c>-float.MaxValue</c> becomes <c>-∞</c> (a ban);
/// one above <c>float.MaxValue</c> (a huge negative coefficient) throws <see cref="InvalidLogitsException"/>
/// with this processor's stage (inside an unchecked pipeline call, the kernel's stage <c>"penalize"</c>). Sparse: one
/// <see cref="ILogitKernels.PenalizeTokens"/> call over the touched ids, on the batch's backend. Not argmax-invariant.</para>
/// </remarks>
public sealed class FrequencyPresencePenaltyProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="frequencyPenalty">α_f, finite, for every row or per row.</param>
    /// <param name="presencePenalty">α_p, finite, for every row or per row.</param>
    /// <param name="scope">Which part of the history is read.</param>
    /// <param name="window"><c>-1</c> for the whole scope, or the number N ≥ 1 of last tokens read.</param>
    /// <exception cref="ArgumentOutOfRangeException">A coefficient is NaN or infinite, the scope is undefined, or
    /// <paramref name="window"/> is 0 or below -1.</exception>
    public FrequencyPresencePenaltyProcessor(PerRow<double> frequencyPenalty, PerRow<double> presencePenalty, PenaltyScope scope = PenaltyScope.OutputOnly, int window = -1)
        : base(RowMaximaUse.None)
    {
        FrequencyPenalty = PerRowParameter(CountPenalties.ValidateAdditive(frequencyPenalty, nameof(frequencyPenalty)));
        PresencePenalty = PerRowParameter(CountPenalties.ValidateAdditive(presencePenalty, nameof(presencePenalty)));
        Scope = PenaltyHistory.ValidateScope(scope, nameof(scope));
        Window = PenaltyHistory.ValidateWindow(window, nameof(window));
    }

    /// <summary>α_f, for every row or per row.</summary>
    public PerRow<double> FrequencyPenalty { get; }

    /// <summary>α_p, for every row or per row.</summary>
    public PerRow<double> PresencePenalty { get; }

    /// <summary>Which part of the history is read.</summary>
    public PenaltyScope Scope { get; }

    /// <summary><c>-1</c> (whole scope) or the number of last non-padding tokens read.</summary>
    public int Window { get; }

    /// <inheritdoc />
    public override string Name => "frequency-presence-penalty";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A history id in the window is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        CountPenalties.Apply(logits, contexts, 1.0, Scope, FrequencyPenalty, PresencePenalty, Scope, Window, normalizeFirst: false, Name);
}

using Logits.Processing;
using Logits.Processing.Penalties;

namespace Logits.Pipelines;

/// <summary>Fluent methods that append the penalty processors (docs/algorithms/penalties.md) to a <see cref="LogitPipelineBuilder"/>.</summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .Penalties(repetitionPenalty: 1.1, frequencyPenalty: 0.2, presencePenalty: 0.1, window: 64)
///     .Dry(0.8, sequenceBreakers: new[] { newlineId })
///     .TopK(40).TopP(0.95).Temperature(0.8f)
///     .Multinomial(seed: 42);
/// </code>
/// </remarks>
public static class PenaltiesBuilderExtensions
{
    /// <summary>Appends <see cref="RepetitionPenaltyProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="penalty">θ, finite and greater than 0 (1 = off).</param>
    /// <param name="scope">Which part of the history is read (default prompt and output).</param>
    /// <param name="window"><c>-1</c> for the whole scope, or the last N ≥ 1 tokens.</param>
    /// <param name="normalizeFirst">Replace every row by its log-softmax first.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static LogitPipelineBuilder RepetitionPenalty(
        this LogitPipelineBuilder builder,
        PerRow<double> penalty,
        PenaltyScope scope = PenaltyScope.PromptAndOutput,
        int window = -1,
        bool normalizeFirst = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new RepetitionPenaltyProcessor(penalty, scope, window, normalizeFirst));
    }

    /// <summary>Appends <see cref="FrequencyPresencePenaltyProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="frequencyPenalty">α_f, finite (0 = off).</param>
    /// <param name="presencePenalty">α_p, finite (0 = off).</param>
    /// <param name="scope">Which part of the history is read (default output only).</param>
    /// <param name="window"><c>-1</c> for the whole scope, or the last N ≥ 1 tokens.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static LogitPipelineBuilder FrequencyPresencePenalty(
        this LogitPipelineBuilder builder,
        PerRow<double> frequencyPenalty,
        PerRow<double> presencePenalty,
        PenaltyScope scope = PenaltyScope.OutputOnly,
        int window = -1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new FrequencyPresencePenaltyProcessor(frequencyPenalty, presencePenalty, scope, window));
    }

    /// <summary>Appends the combined <see cref="PenaltiesProcessor"/> (repetition, then frequency and presence).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="repetitionPenalty">θ, finite and greater than 0 (1 = off).</param>
    /// <param name="frequencyPenalty">α_f, finite (0 = off).</param>
    /// <param name="presencePenalty">α_p, finite (0 = off).</param>
    /// <param name="window"><c>-1</c> for the whole scopes, or the last N ≥ 1 tokens (llama.cpp: 64).</param>
    /// <param name="repetitionScope">The history the repetition penalty reads.</param>
    /// <param name="frequencyPresenceScope">The history the frequency and presence penalties read.</param>
    /// <param name="normalizeFirst">Replace every row by its log-softmax first.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static LogitPipelineBuilder Penalties(
        this LogitPipelineBuilder builder,
        PerRow<double> repetitionPenalty,
        PerRow<double> frequencyPenalty,
        PerRow<double> presencePenalty,
        int window = -1,
        PenaltyScope repetitionScope = PenaltyScope.PromptAndOutput,
        PenaltyScope frequencyPresenceScope = PenaltyScope.OutputOnly,
        bool normalizeFirst = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new PenaltiesProcessor(repetitionPenalty, frequencyPenalty, presencePenalty, window, repetitionScope, frequencyPresenceScope, normalizeFirst));
    }

    /// <summary>Appends <see cref="DryProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="multiplier">Multiplier ≥ 0 (0 = off; LLamaSharp uses 0.8).</param>
    /// <param name="base">Base ≥ 1 (default 1.75).</param>
    /// <param name="allowedLength">AllowedLength ≥ 1 (default 2).</param>
    /// <param name="window"><c>-1</c> for the whole history, or the last N ≥ 1 tokens.</param>
    /// <param name="sequenceBreakers">Token ids no repeat may cross (e.g. the newline token).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside its range.</exception>
    /// <exception cref="ArgumentException">A sequence breaker is negative.</exception>
    public static LogitPipelineBuilder Dry(
        this LogitPipelineBuilder builder,
        PerRow<double> multiplier,
        double @base = 1.75,
        int allowedLength = 2,
        int window = -1,
        IEnumerable<int>? sequenceBreakers = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new DryProcessor(multiplier, @base, allowedLength, window, sequenceBreakers));
    }

    /// <summary>Appends <see cref="NoRepeatNGramProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="ngramSize">N ≥ 1.</param>
    /// <param name="scope">Which part of the history is read (default prompt and output, as HF).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ngramSize"/> is below 1.</exception>
    public static LogitPipelineBuilder NoRepeatNGram(this LogitPipelineBuilder builder, int ngramSize, PenaltyScope scope = PenaltyScope.PromptAndOutput)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new NoRepeatNGramProcessor(ngramSize, scope));
    }
}

using Logits.Processing.Constraints;

namespace Logits.Pipelines;

/// <summary>Fluent methods that append the biasing, constraint and guidance processors (docs/algorithms/constraints.md, docs/algorithms/guidance.md).</summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .LogitBias(new Dictionary&lt;int, double&gt; { [42] = -100 })
///     .MinNewTokens(4) // the EOS ids come from each row's SamplingContext
///     .SuppressTokens(new[] { 0 })
///     .Temperature(0.7)
///     .Multinomial(seed: 1);
/// </code>
/// </remarks>
public static class ConstraintsBuilderExtensions
{
    /// <summary>Appends <see cref="LogitBiasProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="bias">Token id → bias (finite or <c>-∞</c>).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder LogitBias(this LogitPipelineBuilder builder, IReadOnlyDictionary<int, double> bias)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new LogitBiasProcessor(bias));
    }

    /// <summary>Appends <see cref="SequenceBiasProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="entries">The (sequence, bias) entries.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder SequenceBias(this LogitPipelineBuilder builder, IEnumerable<SequenceBias> entries)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new SequenceBiasProcessor(entries));
    }

    /// <summary>Appends <see cref="BadWordsProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="sequences">The banned sequences.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder BadWords(this LogitPipelineBuilder builder, IEnumerable<IEnumerable<int>> sequences)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new BadWordsProcessor(sequences));
    }

    /// <summary>Appends <see cref="AllowedTokensProcessor"/> with a fixed set.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="allowedTokenIds">The allowed ids (non-empty).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder AllowedTokens(this LogitPipelineBuilder builder, IEnumerable<int> allowedTokenIds)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new AllowedTokensProcessor(allowedTokenIds));
    }

    /// <summary>Appends <see cref="AllowedTokensProcessor"/> with a per-step callback.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="callback">Returns the allowed ids of a row given its history.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder AllowedTokens(this LogitPipelineBuilder builder, AllowedTokensCallback callback)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new AllowedTokensProcessor(callback));
    }

    /// <summary>Appends <see cref="MinLengthProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="minLength">The minimum history length (prompt + output), at least 0.</param>
    /// <param name="stopTokenIds">Optional extra stop ids.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder MinLength(this LogitPipelineBuilder builder, int minLength, IEnumerable<int>? stopTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new MinLengthProcessor(minLength, stopTokenIds));
    }

    /// <summary>Appends <see cref="MinNewTokensProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="minNewTokens">The minimum number of generated tokens, at least 0.</param>
    /// <param name="stopTokenIds">Optional extra stop ids.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder MinNewTokens(this LogitPipelineBuilder builder, int minNewTokens, IEnumerable<int>? stopTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new MinNewTokensProcessor(minNewTokens, stopTokenIds));
    }

    /// <summary>Appends <see cref="ForcedBosProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="bosTokenId">The token forced at the first generated position.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder ForcedBos(this LogitPipelineBuilder builder, int bosTokenId)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new ForcedBosProcessor(bosTokenId));
    }

    /// <summary>Appends <see cref="ForcedEosProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="maxLength">The maximum history length (prompt + output), at least 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder ForcedEos(this LogitPipelineBuilder builder, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new ForcedEosProcessor(maxLength));
    }

    /// <summary>Appends <see cref="ExponentialDecayLengthPenaltyProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="startIndex">Generated tokens after which the EOS boost starts, at least 0.</param>
    /// <param name="decayFactor">Finite and greater than 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder ExponentialDecayLengthPenalty(this LogitPipelineBuilder builder, int startIndex, double decayFactor)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new ExponentialDecayLengthPenaltyProcessor(startIndex, decayFactor));
    }

    /// <summary>Appends <see cref="LogitNormalizationProcessor"/> (rows become log-softmax).</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder LogitNormalization(this LogitPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(LogitNormalizationProcessor.Instance);
    }

    /// <summary>Appends <see cref="SuppressTokensProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="tokenIds">The suppressed ids (non-empty).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder SuppressTokens(this LogitPipelineBuilder builder, IEnumerable<int> tokenIds)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new SuppressTokensProcessor(tokenIds));
    }

    /// <summary>Appends <see cref="SuppressTokensAtBeginProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="tokenIds">The suppressed ids (non-empty).</param>
    /// <param name="beginIndex">The number of generated tokens at which they are suppressed, at least 0.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder SuppressTokensAtBegin(this LogitPipelineBuilder builder, IEnumerable<int> tokenIds, int beginIndex = 0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new SuppressTokensAtBeginProcessor(tokenIds, beginIndex));
    }

}

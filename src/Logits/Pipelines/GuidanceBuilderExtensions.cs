using Logits.Processing;
using Logits.Processing.Guidance;

namespace Logits.Pipelines;

/// <summary>Fluent methods for guidance (<c>Processing.Guidance</c>): classifier-free guidance and STEER.</summary>
/// <remarks>
/// Both combine another model's (or another prompt's) logits each step and belong first in the chain, on raw model
/// logits:
/// <code>
/// var cfg = LogitPipeline.CreateBuilder().ClassifierFreeGuidance(1.5, unconditional).Multinomial(seed: 7);
/// var steer = LogitPipeline.CreateBuilder()
///     .SteerPaperSetup(baseModelSource, negativePromptSource)   // STEER, top-k 10, temperature 1
///     .Multinomial(seed: 7);
/// </code>
/// </remarks>
public static class GuidanceBuilderExtensions
{
    /// <summary>Appends <see cref="ClassifierFreeGuidanceProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="scale">The guidance scale, finite; 1 = off.</param>
    /// <param name="provider">Supplies the unconditional logits of each step.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder ClassifierFreeGuidance(this LogitPipelineBuilder builder, double scale, IUnconditionalLogitsProvider provider)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new ClassifierFreeGuidanceProcessor(scale, provider));
    }

    /// <summary>Appends <see cref="SteerProcessor"/> (STEER, arXiv 2308.07645).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="baseSource">The base model's logits on the same prefix; may be null only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negativeSource">The expert's logits on the negative prompt plus the generated tokens; may be null only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, finite and ≥ 0 (default 0.2).</param>
    /// <param name="eta">η, finite and ≥ 0 (default 0.6).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null, or a source is null while its coefficient is positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> or <paramref name="eta"/> is invalid.</exception>
    public static LogitPipelineBuilder Steer(
        this LogitPipelineBuilder builder,
        ILogitSource? baseSource,
        ILogitSource? negativeSource,
        double gamma = Processing.Guidance.Steer.DefaultGamma,
        double eta = Processing.Guidance.Steer.DefaultEta)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new SteerProcessor(baseSource, negativeSource, gamma, eta));
    }

    /// <summary>
    /// Appends the STEER paper's decoding setup (docs/algorithms/guidance.md#steer): <see cref="SteerProcessor"/>, then top-k
    /// (<paramref name="topK"/>, default 10), then temperature (default 1). End the pipeline with a sampler.
    /// </summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="baseSource">The base model's logits on the same prefix; may be null only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negativeSource">The expert's logits on the negative prompt plus the generated tokens; may be null only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, finite and ≥ 0 (default 0.2).</param>
    /// <param name="eta">η, finite and ≥ 0 (default 0.6).</param>
    /// <param name="topK">The top-k applied after STEER, at least 1 (default 10).</param>
    /// <param name="temperature">The temperature applied last (default 1).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null, or a source is null while its coefficient is positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is invalid.</exception>
    public static LogitPipelineBuilder SteerPaperSetup(
        this LogitPipelineBuilder builder,
        ILogitSource? baseSource,
        ILogitSource? negativeSource,
        double gamma = Processing.Guidance.Steer.DefaultGamma,
        double eta = Processing.Guidance.Steer.DefaultEta,
        int topK = 10,
        double temperature = 1.0)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Steer(baseSource, negativeSource, gamma, eta).TopK(topK).Temperature(temperature);
    }
}

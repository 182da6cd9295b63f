using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>
/// Fluent methods that end a pipeline with a selector (<c>Logits.Selection</c>): greedy, multinomial, Gumbel-max and the
/// mirostat selectors. <see cref="LogitPipelineBuilder.Select"/> takes any other.
/// </summary>
/// <remarks>
/// <code>
/// var sampled = LogitPipeline.CreateBuilder().TopK(40).Temperature(0.8).Multinomial(seed: 42);
/// var mirostat = LogitPipeline.CreateBuilder().Temperature(0.8).MirostatV2(seed: 42, tau: 5, eta: 0.1);
/// </code>
/// </remarks>
public static class SelectionBuilderExtensions
{
    /// <summary>Ends the pipeline with greedy selection (argmax-invariant processors are then skipped).</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The pipeline.</returns>
    public static LogitPipeline Greedy(this LogitPipelineBuilder builder) => Builder(builder).Select(GreedySelector.Instance);

    /// <summary>Ends the pipeline with seeded multinomial sampling.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <returns>The pipeline.</returns>
    public static LogitPipeline Multinomial(this LogitPipelineBuilder builder, ulong seed) => Builder(builder).Select(new MultinomialSelector(seed));

    /// <summary>Ends the pipeline with seeded Gumbel-max (exponential race) sampling.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <returns>The pipeline.</returns>
    public static LogitPipeline Gumbel(this LogitPipelineBuilder builder, ulong seed) => Builder(builder).Select(new GumbelSelector(seed));

    /// <summary>Ends the pipeline with <see cref="MirostatV1Selector"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <param name="tau">Target surprise in bits, greater than 0.</param>
    /// <param name="eta">Learning rate, at least 0.</param>
    /// <param name="m">Top probabilities used by the Zipf estimate, at least 2.</param>
    /// <param name="nVocab">Vocabulary size of the formula; <see langword="null"/> uses the batch's.</param>
    /// <returns>The pipeline.</returns>
    public static LogitPipeline MirostatV1(this LogitPipelineBuilder builder, ulong seed, double tau = 5, double eta = 0.1, int m = 100, int? nVocab = null) =>
        Builder(builder).Select(new MirostatV1Selector(seed, tau, eta, m, nVocab));

    /// <summary>Ends the pipeline with <see cref="MirostatV2Selector"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <param name="tau">Target surprise in bits, greater than 0.</param>
    /// <param name="eta">Learning rate, at least 0.</param>
    /// <returns>The pipeline.</returns>
    public static LogitPipeline MirostatV2(this LogitPipelineBuilder builder, ulong seed, double tau = 5, double eta = 0.1) =>
        Builder(builder).Select(new MirostatV2Selector(seed, tau, eta));

    private static LogitPipelineBuilder Builder(LogitPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}

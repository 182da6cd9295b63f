using Logits.Processing;
using Logits.Processing.Truncation;

namespace Logits.Pipelines;

/// <summary>
/// Fluent methods for the truncations (<c>Processing.Truncation</c>): top-k, top-p, min-p, typical, epsilon, eta,
/// top-nσ and XTC.
/// </summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .TopK(40).TopNSigma(1.0).Typical(0.95).Xtc(probability: 0.5, threshold: 0.1, seed: 7)
///     .Temperature(0.8)
///     .Multinomial(seed: 42);
/// </code>
/// </remarks>
public static class TruncationBuilderExtensions
{
    /// <summary>Appends <see cref="TopKProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="k">K ≥ 1.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="tieMode">Tie handling at the boundary.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder TopK(this LogitPipelineBuilder builder, PerRow<int> k, int minTokensToKeep = 1, TopKTieMode tieMode = TopKTieMode.IncludeTies) =>
        Builder(builder).Add(new TopKProcessor(k, minTokensToKeep, tieMode));

    /// <summary>Appends <see cref="TopPProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="p">P in <c>[0, 1]</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="mode">The boundary rule (default inclusive; HF's float32 complement for parity).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder TopP(this LogitPipelineBuilder builder, PerRow<double> p, int minTokensToKeep = 1, TopPMode mode = TopPMode.Inclusive) =>
        Builder(builder).Add(new TopPProcessor(p, minTokensToKeep, mode));

    /// <summary>Appends <see cref="MinPProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="minP">Pmin in <c>[0, 1]</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder MinP(this LogitPipelineBuilder builder, PerRow<double> minP, int minTokensToKeep = 1) => Builder(builder).Add(new MinPProcessor(minP, minTokensToKeep));

    /// <summary>Appends <see cref="TypicalProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="mass">The typical mass in <c>(0, 1]</c>.</param>
    /// <param name="minTokensToKeep">At least 1, counted in typicality order.</param>
    /// <param name="boundary">Inclusive (HF) or strict (llama.cpp) comparison with the mass.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder Typical(this LogitPipelineBuilder builder, PerRow<double> mass, int minTokensToKeep = 1, TypicalBoundary boundary = TypicalBoundary.Inclusive) =>
        Builder(builder).Add(new TypicalProcessor(mass, minTokensToKeep, boundary));

    /// <summary>Appends <see cref="EpsilonProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="epsilon">ε in <c>(0, 1)</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder Epsilon(this LogitPipelineBuilder builder, PerRow<double> epsilon, int minTokensToKeep = 1) =>
        Builder(builder).Add(new EpsilonProcessor(epsilon, minTokensToKeep));

    /// <summary>Appends <see cref="EtaProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="epsilon">ε in <c>(0, 1)</c>.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder Eta(this LogitPipelineBuilder builder, PerRow<double> epsilon, int minTokensToKeep = 1) =>
        Builder(builder).Add(new EtaProcessor(epsilon, minTokensToKeep));

    /// <summary>Appends <see cref="TopNSigmaProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="n">n &gt; 0, finite.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder TopNSigma(this LogitPipelineBuilder builder, PerRow<double> n, int minTokensToKeep = 1) =>
        Builder(builder).Add(new TopNSigmaProcessor(n, minTokensToKeep));

    /// <summary>Appends <see cref="XtcProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="probability">The chance to act per row and call, in <c>[0, 1]</c>.</param>
    /// <param name="threshold">The probability a top choice needs, in <c>[0, 1]</c> (llama.cpp's default is 0.1).</param>
    /// <param name="seed">The batch seed of the XTC streams.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <param name="protectedTokens">Tokens never removed (typically newline and EOS).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder Xtc(this LogitPipelineBuilder builder, PerRow<double> probability, PerRow<double> threshold, ulong seed, int minTokensToKeep = 1, IEnumerable<int>? protectedTokens = null) =>
        Builder(builder).Add(new XtcProcessor(probability, threshold, seed, minTokensToKeep, protectedTokens));

    private static LogitPipelineBuilder Builder(LogitPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}

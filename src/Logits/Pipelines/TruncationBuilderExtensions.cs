using System.Collections.Generic;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>
/// Fluent methods for the entropy- and distribution-aware truncations (typical, epsilon, eta, top-nσ, XTC),
/// dynamic temperature, and the mirostat selectors.
/// </summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .TopNSigma(1.0).Typical(0.95).Xtc(probability: 0.5, threshold: 0.1, seed: 7)
///     .DynamicTemperature(0.8f, 0.3f)
///     .Multinomial(seed: 42);
///
/// var mirostat = LogitPipeline.CreateBuilder().Temperature(0.8f).MirostatV2(seed: 42, tau: 5, eta: 0.1);
/// </code>
/// </remarks>
public static class TruncationBuilderExtensions
{
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

    /// <summary>Appends <see cref="DynamicTemperatureProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="temperature">The centre temperature <c>T0</c> (below 1e-5: greedy).</param>
    /// <param name="delta">The range <c>Δ ≥ 0</c>.</param>
    /// <param name="exponent">The entropy exponent, greater than 0.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder DynamicTemperature(this LogitPipelineBuilder builder, PerRow<double> temperature, PerRow<double> delta, double exponent = 1.0) =>
        Builder(builder).Add(new DynamicTemperatureProcessor(temperature, delta, exponent));

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
        System.ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}

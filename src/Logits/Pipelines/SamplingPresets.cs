using System;
using Logits.Processing.Guidance;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>
/// The two ordering presets of spec/sampling.md §4: plain, editable lists that only pre-fill a pipeline.
/// </summary>
/// <remarks>
/// Order changes results (spec §7.9): Hugging Face applies temperature before truncation, llama.cpp after
/// it (truncation then measures the model's untempered confidence). Neutral settings leave their step out.
/// </remarks>
public static class SamplingPresets
{
    /// <summary>
    /// llama.cpp's chain, temperature last: logit bias → constraints → penalties (last 64 tokens) → DRY →
    /// top-nσ → top-k → typical → top-p → min-p → XTC → temperature → multinomial. With Mirostat on: logit
    /// bias → constraints → temperature → Mirostat.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> gives llama.cpp's defaults.</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its processor's range, or Mirostat is not 0, 1 or 2.</exception>
    public static LogitPipeline LlamaCpp(LlamaCppSamplingOptions? options = null)
    {
        var o = options ?? new LlamaCppSamplingOptions();
        var builder = LogitPipeline.CreateBuilder();
        if (o.LogitBias is { Count: > 0 } bias)
        {
            builder.LogitBias(bias);
        }

        foreach (var constraint in o.Constraints ?? Array.Empty<Logits.Processing.ILogitProcessor>())
        {
            builder.Add(constraint);
        }

        if (o.Mirostat != 0)
        {
            builder.Temperature(o.Temperature);
            return o.Mirostat switch
            {
                1 => builder.Select(new MirostatV1Selector(o.Seed, o.MirostatTau, o.MirostatEta)),
                2 => builder.Select(new MirostatV2Selector(o.Seed, o.MirostatTau, o.MirostatEta)),
                _ => throw new ArgumentOutOfRangeException(nameof(options), o.Mirostat, "'Mirostat' must be 0, 1 or 2."),
            };
        }

        if (o.RepetitionPenalty != 1 || o.FrequencyPenalty != 0 || o.PresencePenalty != 0)
        {
            // llama.cpp counts the prompt too for all three penalties.
            builder.Penalties(o.RepetitionPenalty, o.FrequencyPenalty, o.PresencePenalty, o.PenaltyLastN, PenaltyScope.PromptAndOutput, PenaltyScope.PromptAndOutput);
        }

        if (o.DryMultiplier != 0)
        {
            builder.Dry(o.DryMultiplier, o.DryBase, o.DryAllowedLength, o.DryPenaltyLastN, o.DrySequenceBreakers);
        }

        if (o.TopNSigma > 0)
        {
            builder.TopNSigma(o.TopNSigma);
        }

        if (o.TopK > 0)
        {
            builder.TopK(o.TopK);
        }

        if (o.TypicalP < 1)
        {
            builder.Typical(o.TypicalP, TypicalBoundary.Strict);
        }

        if (o.TopP < 1)
        {
            builder.TopP(o.TopP);
        }

        if (o.MinP > 0)
        {
            builder.MinP(o.MinP);
        }

        if (o.XtcProbability > 0)
        {
            // A stream separate from the selector's (spec §3a XTC).
            builder.Xtc(o.XtcProbability, o.XtcThreshold, unchecked(o.Seed + 0x9E3779B97F4A7C15UL));
        }

        if (o.DynamicTemperatureRange > 0)
        {
            builder.DynamicTemperature(o.Temperature, o.DynamicTemperatureRange, o.DynamicTemperatureExponent);
        }
        else
        {
            builder.Temperature(o.Temperature);
        }

        return builder.Multinomial(o.Seed);
    }

    /// <summary>
    /// Hugging Face <c>generate()</c>'s order, temperature first: CFG → repetition penalty → no-repeat
    /// n-gram → constraint and user processors → temperature → top-k → top-p → min-p → typical → epsilon →
    /// eta → multinomial (or greedy when <see cref="HuggingFaceSamplingOptions.DoSample"/> is false).
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> gives <c>generate()</c>'s defaults.</param>
    /// <returns>The pipeline.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its processor's range.</exception>
    /// <exception cref="ArgumentException">A guidance scale other than 1 is set without a provider.</exception>
    public static LogitPipeline HuggingFace(HuggingFaceSamplingOptions? options = null)
    {
        var o = options ?? new HuggingFaceSamplingOptions();
        var builder = LogitPipeline.CreateBuilder();
        if (o.GuidanceScale != 1)
        {
            if (o.GuidanceProvider is null)
            {
                throw new ArgumentException("A guidance scale other than 1 needs a GuidanceProvider.", nameof(options));
            }

            builder.Add(new ClassifierFreeGuidanceProcessor(o.GuidanceScale, o.GuidanceProvider));
        }

        if (o.RepetitionPenalty != 1)
        {
            builder.RepetitionPenalty(o.RepetitionPenalty);
        }

        if (o.NoRepeatNGramSize > 0)
        {
            builder.NoRepeatNGram(o.NoRepeatNGramSize);
        }

        foreach (var processor in o.Processors ?? Array.Empty<Logits.Processing.ILogitProcessor>())
        {
            builder.Add(processor);
        }

        if (o.Temperature != 1)
        {
            builder.Temperature(o.Temperature);
        }

        if (o.TopK > 0)
        {
            builder.TopK(o.TopK);
        }

        if (o.TopP < 1)
        {
            builder.TopP(o.TopP);
        }

        if (o.MinP > 0)
        {
            builder.MinP(o.MinP);
        }

        if (o.TypicalP < 1)
        {
            builder.Typical(o.TypicalP);
        }

        if (o.EpsilonCutoff > 0)
        {
            builder.Epsilon(o.EpsilonCutoff);
        }

        if (o.EtaCutoff > 0)
        {
            builder.Eta(o.EtaCutoff);
        }

        return o.DoSample ? builder.Multinomial(o.Seed) : builder.Greedy();
    }
}

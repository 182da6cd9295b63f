using System.Diagnostics.CodeAnalysis;
using Logits.Processing.Guidance;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>
/// The two ordering presets of docs/algorithms/conventions.md#ordering-presets: plain, editable lists that only pre-fill a pipeline.
/// </summary>
/// <remarks>
/// Order changes results (an example is in the same section): Hugging Face applies temperature before truncation, llama.cpp after
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
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range (NaN included), or Mirostat is
    /// not 0, 1 or 2; the parameter name is the setting's property name (e.g. <c>TopP</c>). Only the documented
    /// "off" values leave a step out.</exception>
    public static LogitPipeline LlamaCpp(LlamaCppSamplingOptions? options = null)
    {
        var o = options ?? new LlamaCppSamplingOptions();
        Validate(o);
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
                _ => ThrowMirostat(o.Mirostat),
            };
        }

        // PenaltyLastN = 0 and DryPenaltyLastN = 0 turn their step off, as in llama.cpp.
        if ((o.RepetitionPenalty != 1 || o.FrequencyPenalty != 0 || o.PresencePenalty != 0) && o.PenaltyLastN != 0)
        {
            // llama.cpp counts the prompt too for all three penalties.
            builder.Penalties(o.RepetitionPenalty, o.FrequencyPenalty, o.PresencePenalty, o.PenaltyLastN, PenaltyScope.PromptAndOutput, PenaltyScope.PromptAndOutput);
        }

        if (o.DryMultiplier != 0 && o.DryPenaltyLastN != 0)
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
            builder.Typical(o.TypicalP, boundary: TypicalBoundary.Strict);
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
            // A stream separate from the selector's (docs/algorithms/truncation.md#xtc).
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
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range (NaN included); the parameter name
    /// is the setting's property name (e.g. <c>TopP</c>). Only the documented "off" values leave a step out.</exception>
    /// <exception cref="ArgumentException">A guidance scale other than 1 is set without a provider.</exception>
    public static LogitPipeline HuggingFace(HuggingFaceSamplingOptions? options = null)
    {
        var o = options ?? new HuggingFaceSamplingOptions();
        Validate(o);
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

    // Each setting is checked before any step is chosen, so a NaN or out-of-range value can never pass a
    // "neutral value" comparison and silently leave its step out.
    [DoesNotReturn]
    private static LogitPipeline ThrowMirostat(int mirostat)
    {
        ThrowHelper.ThrowArgumentOutOfRange(nameof(LlamaCppSamplingOptions.Mirostat), mirostat, "must be 0 (off), 1 or 2");
        return null;
    }

    private static void Validate(LlamaCppSamplingOptions o)
    {
        OptionChecks.Finite(o.Temperature, nameof(o.Temperature));
        OptionChecks.AtLeast(o.DynamicTemperatureRange, 0, nameof(o.DynamicTemperatureRange), "0 = plain temperature");
        OptionChecks.Above(o.DynamicTemperatureExponent, 0, nameof(o.DynamicTemperatureExponent), "default 1");
        OptionChecks.Closed(o.TopP, 0, 1, nameof(o.TopP), "1 = off");
        OptionChecks.Closed(o.MinP, 0, 1, nameof(o.MinP), "0 = off");
        OptionChecks.LeftOpen(o.TypicalP, 0, 1, nameof(o.TypicalP), "1 = off");
        OptionChecks.Finite(o.TopNSigma, nameof(o.TopNSigma));
        OptionChecks.Above(o.RepetitionPenalty, 0, nameof(o.RepetitionPenalty), "1 = off");
        OptionChecks.Finite(o.FrequencyPenalty, nameof(o.FrequencyPenalty));
        OptionChecks.Finite(o.PresencePenalty, nameof(o.PresencePenalty));
        OptionChecks.AtLeast(o.PenaltyLastN, -1, nameof(o.PenaltyLastN), "-1 = whole history, 0 = penalties off");
        OptionChecks.AtLeast(o.DryMultiplier, 0, nameof(o.DryMultiplier), "0 = off");
        OptionChecks.AtLeast(o.DryBase, 1, nameof(o.DryBase), "default 1.75");
        OptionChecks.AtLeast(o.DryAllowedLength, 1, nameof(o.DryAllowedLength), "default 2");
        OptionChecks.AtLeast(o.DryPenaltyLastN, -1, nameof(o.DryPenaltyLastN), "-1 = whole history, 0 = DRY off");
        OptionChecks.Closed(o.XtcProbability, 0, 1, nameof(o.XtcProbability), "0 = off");
        OptionChecks.Closed(o.XtcThreshold, 0, 1, nameof(o.XtcThreshold), "default 0.1");
        OptionChecks.Above(o.MirostatTau, 0, nameof(o.MirostatTau), "default 5");
        OptionChecks.AtLeast(o.MirostatEta, 0, nameof(o.MirostatEta), "default 0.1");
    }

    private static void Validate(HuggingFaceSamplingOptions o)
    {
        OptionChecks.Finite(o.Temperature, nameof(o.Temperature));
        OptionChecks.Closed(o.TopP, 0, 1, nameof(o.TopP), "1 = off");
        OptionChecks.Closed(o.MinP, 0, 1, nameof(o.MinP), "0 = off");
        OptionChecks.LeftOpen(o.TypicalP, 0, 1, nameof(o.TypicalP), "1 = off");
        OptionChecks.RightOpen(o.EpsilonCutoff, 0, 1, nameof(o.EpsilonCutoff), "0 = off");
        OptionChecks.RightOpen(o.EtaCutoff, 0, 1, nameof(o.EtaCutoff), "0 = off");
        OptionChecks.Above(o.RepetitionPenalty, 0, nameof(o.RepetitionPenalty), "1 = off");
        OptionChecks.AtLeast(o.NoRepeatNGramSize, 0, nameof(o.NoRepeatNGramSize), "0 = off");
        OptionChecks.Finite(o.GuidanceScale, nameof(o.GuidanceScale));
    }
}

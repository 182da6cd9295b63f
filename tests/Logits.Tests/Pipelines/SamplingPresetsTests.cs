using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Selection;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Pipelines;

public sealed class SamplingPresetsTests
{
    private static string[] Names(LogitPipeline pipeline) => pipeline.Processors.Select(p => p.Name).ToArray();

    private static int[] Kept(LogitPipeline pipeline, float[] row)
    {
        using var batch = CpuLogitBatch.FromRow(row);
        pipeline.Process(batch, new[] { new SamplingContext() });
        var values = batch.ToArray();
        return Enumerable.Range(0, values.Length).Where(i => !float.IsNegativeInfinity(values[i])).ToArray();
    }

    [Fact]
    public void Llama_cpp_defaults_are_its_common_chain_with_temperature_last()
    {
        var pipeline = SamplingPresets.LlamaCpp();
        Names(pipeline).Should().Equal("top-k", "top-p", "min-p", "temperature");
        pipeline.Selector.Should().BeOfType<MultinomialSelector>();
    }

    [Fact]
    public void Llama_cpp_full_chain_order()
    {
        var options = new LlamaCppSamplingOptions
        {
            LogitBias = new Dictionary<int, double> { [1] = 1 },
            RepetitionPenalty = 1.1,
            DryMultiplier = 0.8,
            TopNSigma = 1,
            TypicalP = 0.9,
            XtcProbability = 0.5,
            DynamicTemperatureRange = 0.5f,
        };
        Names(SamplingPresets.LlamaCpp(options)).Should().Equal(
            "logit-bias", "penalties", "dry", "top-n-sigma", "top-k", "typical", "top-p", "min-p", "xtc", "dynamic-temperature");
    }

    [Fact]
    public void Llama_cpp_mirostat_drops_truncation()
    {
        var v2 = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Mirostat = 2 });
        Names(v2).Should().Equal("temperature");
        v2.Selector.Should().BeOfType<MirostatV2Selector>();
        SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Mirostat = 1 }).Selector.Should().BeOfType<MirostatV1Selector>();
        FluentActions.Invoking(() => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Mirostat = 3 })).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Hugging_face_defaults_and_greedy()
    {
        Names(SamplingPresets.HuggingFace()).Should().Equal("top-k");
        var full = SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions
        {
            RepetitionPenalty = 1.2, NoRepeatNGramSize = 3, Temperature = 0.7f, TopP = 0.9, MinP = 0.05, TypicalP = 0.95, EpsilonCutoff = 3e-4, EtaCutoff = 3e-4,
        });
        Names(full).Should().Equal("repetition-penalty", "no-repeat-ngram", "temperature", "top-k", "top-p", "min-p", "typical", "epsilon", "eta");
        SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions { DoSample = false }).Selector.Should().BeOfType<GreedySelector>();
        FluentActions.Invoking(() => SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions { GuidanceScale = 1.5f })).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Spec_7_9_the_presets_differ_exactly_by_temperature_position()
    {
        var row = new[] { 3f, 2f, 1f };
        Kept(SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions { Temperature = 0.5f, TopK = 0, TopP = 0.8 }), row).Should().Equal(0);
        Kept(SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Temperature = 0.5f, TopK = 0, TopP = 0.8, MinP = 0 }), row).Should().Equal(0, 1);
    }

    // Issue 14, defect 4: NaN or out-of-range settings used to fail the "neutral value" comparison and silently
    // leave their step out (TopP = NaN built [top-k, min-p, temperature]).
    public static TheoryData<Func<LlamaCppSamplingOptions>, string> BadLlamaCppSettings => new()
    {
        { () => new LlamaCppSamplingOptions { TopP = double.NaN }, "TopP" },
        { () => new LlamaCppSamplingOptions { TopP = 1.5 }, "TopP" },
        { () => new LlamaCppSamplingOptions { TopP = -0.1 }, "TopP" },
        { () => new LlamaCppSamplingOptions { MinP = double.NaN }, "MinP" },
        { () => new LlamaCppSamplingOptions { MinP = -0.5 }, "MinP" },
        { () => new LlamaCppSamplingOptions { TypicalP = double.NaN }, "TypicalP" },
        { () => new LlamaCppSamplingOptions { TypicalP = 1.5 }, "TypicalP" },
        { () => new LlamaCppSamplingOptions { XtcProbability = double.NaN }, "XtcProbability" },
        { () => new LlamaCppSamplingOptions { XtcProbability = -1 }, "XtcProbability" },
        { () => new LlamaCppSamplingOptions { TopNSigma = double.NaN }, "TopNSigma" },
        { () => new LlamaCppSamplingOptions { DynamicTemperatureRange = float.NaN }, "DynamicTemperatureRange" },
        { () => new LlamaCppSamplingOptions { DynamicTemperatureRange = -1 }, "DynamicTemperatureRange" },
        { () => new LlamaCppSamplingOptions { Temperature = float.NaN }, "Temperature" },
        { () => new LlamaCppSamplingOptions { RepetitionPenalty = double.NaN }, "RepetitionPenalty" },
        { () => new LlamaCppSamplingOptions { FrequencyPenalty = double.NaN }, "FrequencyPenalty" },
        { () => new LlamaCppSamplingOptions { PresencePenalty = double.PositiveInfinity }, "PresencePenalty" },
        { () => new LlamaCppSamplingOptions { DryMultiplier = double.NaN }, "DryMultiplier" },
        { () => new LlamaCppSamplingOptions { DryMultiplier = -0.5 }, "DryMultiplier" },
        { () => new LlamaCppSamplingOptions { DryBase = double.NaN }, "DryBase" },
        { () => new LlamaCppSamplingOptions { PenaltyLastN = -2 }, "PenaltyLastN" },
        { () => new LlamaCppSamplingOptions { MirostatTau = double.NaN }, "MirostatTau" },
        { () => new LlamaCppSamplingOptions { Mirostat = 3 }, "Mirostat" },
    };

    [Theory]
    [MemberData(nameof(BadLlamaCppSettings))]
    public void Llama_cpp_settings_outside_their_range_throw_naming_the_setting(Func<LlamaCppSamplingOptions> options, string name)
    {
        FluentActions.Invoking(() => SamplingPresets.LlamaCpp(options())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    public static TheoryData<Func<HuggingFaceSamplingOptions>, string> BadHuggingFaceSettings => new()
    {
        { () => new HuggingFaceSamplingOptions { TopP = double.NaN }, "TopP" },
        { () => new HuggingFaceSamplingOptions { TopP = 2 }, "TopP" },
        { () => new HuggingFaceSamplingOptions { MinP = double.NaN }, "MinP" },
        { () => new HuggingFaceSamplingOptions { TypicalP = double.NaN }, "TypicalP" },
        { () => new HuggingFaceSamplingOptions { EpsilonCutoff = double.NaN }, "EpsilonCutoff" },
        { () => new HuggingFaceSamplingOptions { EpsilonCutoff = -0.1 }, "EpsilonCutoff" },
        { () => new HuggingFaceSamplingOptions { EtaCutoff = double.NaN }, "EtaCutoff" },
        { () => new HuggingFaceSamplingOptions { Temperature = float.NaN }, "Temperature" },
        { () => new HuggingFaceSamplingOptions { RepetitionPenalty = double.NaN }, "RepetitionPenalty" },
        { () => new HuggingFaceSamplingOptions { NoRepeatNGramSize = -1 }, "NoRepeatNGramSize" },
        { () => new HuggingFaceSamplingOptions { GuidanceScale = float.NaN }, "GuidanceScale" },
    };

    [Theory]
    [MemberData(nameof(BadHuggingFaceSettings))]
    public void Hugging_Face_settings_outside_their_range_throw_naming_the_setting(Func<HuggingFaceSamplingOptions> options, string name)
    {
        FluentActions.Invoking(() => SamplingPresets.HuggingFace(options())).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void Only_the_documented_off_values_leave_steps_out()
    {
        var off = new LlamaCppSamplingOptions { TopK = 0, TopP = 1, MinP = 0, TypicalP = 1, TopNSigma = -1, XtcProbability = 0, DynamicTemperatureRange = 0 };
        Names(SamplingPresets.LlamaCpp(off)).Should().Equal("temperature");
        var on = new LlamaCppSamplingOptions { TopK = 5, TopP = 0.9, MinP = 0.1, TypicalP = 0.9, TopNSigma = 1, XtcProbability = 0.5, DynamicTemperatureRange = 0.2f };
        Names(SamplingPresets.LlamaCpp(on)).Should().HaveCount(7);
        // A window of 0 turns penalties and DRY off, as in llama.cpp (it used to reach the processors and throw 'window').
        Names(SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { RepetitionPenalty = 1.2, PenaltyLastN = 0, DryMultiplier = 0.8, DryPenaltyLastN = 0 }))
            .Should().Equal("top-k", "top-p", "min-p", "temperature");
        var hfOff = new HuggingFaceSamplingOptions { TopK = 0, TopP = 1, MinP = 0, TypicalP = 1, EpsilonCutoff = 0, EtaCutoff = 0 };
        Names(SamplingPresets.HuggingFace(hfOff)).Should().BeEmpty();
    }
}

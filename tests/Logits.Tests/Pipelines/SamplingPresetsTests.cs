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
            LogitBias = new Dictionary<int, float> { [1] = 1f },
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
}

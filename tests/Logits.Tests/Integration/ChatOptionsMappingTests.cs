using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using FluentAssertions;
using Logits.Integration;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Xunit;

namespace Logits.Tests.Integration;

public sealed class ChatOptionsMappingTests
{
    private static string[] Names(LogitPipeline pipeline) => pipeline.Processors.Select(p => p.Name).ToArray();

    [Fact]
    public void Direct_properties_map_in_llama_cpp_order_with_temperature_last()
    {
        var options = new ChatOptions { Temperature = 0.7f, TopP = 0.9f, TopK = 40, FrequencyPenalty = 0.5f, PresencePenalty = 0.25f, Seed = 7 };
        var pipeline = options.ToPipeline();
        pipeline.Processors.Select(p => p.GetType()).Should().Equal(
            typeof(FrequencyPresencePenaltyProcessor), typeof(TopKProcessor), typeof(TopPProcessor), typeof(TemperatureProcessor));
        var penalties = (FrequencyPresencePenaltyProcessor)pipeline.Processors[0];
        penalties.FrequencyPenalty.For(0).Should().Be(0.5);
        penalties.PresencePenalty.For(0).Should().Be(0.25);
        ((TopKProcessor)pipeline.Processors[1]).K.For(0).Should().Be(40);
        ((TopPProcessor)pipeline.Processors[2]).P.For(0).Should().Be((double)0.9f);
        ((TemperatureProcessor)pipeline.Processors[3]).Temperature.For(0).Should().Be((double)0.7f);
        ((MultinomialSelector)pipeline.Selector).Seed.Should().Be(7UL);

        Names(options.ToPipeline(SamplingOrder.HuggingFace)).Should().Equal("frequency-presence-penalty", "temperature", "top-k", "top-p");
    }

    [Fact]
    public void Presence_penalty_is_additive_and_never_the_multiplicative_repetition_penalty()
    {
        var pipeline = new ChatOptions { PresencePenalty = 1f }.ToPipeline();
        pipeline.Processors.Should().ContainSingle().Which.Should().BeOfType<FrequencyPresencePenaltyProcessor>();
    }

    [Fact]
    public void Neutral_and_disabled_values_add_no_processor()
    {
        new ChatOptions { TopK = 0, TopP = 1f, FrequencyPenalty = 0f, PresencePenalty = 0f }.ToPipeline().Processors.Should().BeEmpty();
        new ChatOptions { TopK = -1 }.ToPipeline().Processors.Should().BeEmpty();
        ((ChatOptions?)null).ToPipeline().Processors.Should().BeEmpty();
    }

    [Theory]
    [InlineData(2.5f, null, null, "FrequencyPenalty")]
    [InlineData(null, -2.01f, null, "PresencePenalty")]
    [InlineData(null, null, 1.5f, "TopP")]
    public void Out_of_range_options_name_the_option(float? frequency, float? presence, float? topP, string name)
    {
        var options = new ChatOptions { FrequencyPenalty = frequency, PresencePenalty = presence, TopP = topP };
        FluentActions.Invoking(() => options.ToPipeline()).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void Additional_properties_accept_numbers_strings_and_json()
    {
        var options = new ChatOptions
        {
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                ["min_p"] = "0.05",
                ["repetition_penalty"] = JsonDocument.Parse("1.3").RootElement,
                ["logit_bias"] = new Dictionary<string, double> { ["3"] = -100, ["5"] = 2.5 },
                ["dry_multiplier"] = 0.8,
                ["xtc_probability"] = 0.5f,
                ["xtc_threshold"] = 0.1m,
                ["top_n_sigma"] = 1,
                ["typical_p"] = 0.9,
            },
            Temperature = 0.8f,
        };
        var pipeline = options.ToPipeline();
        Names(pipeline).Should().Equal("logit-bias", "repetition-penalty", "dry", "top-n-sigma", "typical", "min-p", "xtc", "temperature");
        var bias = (LogitBiasProcessor)pipeline.Processors[0];
        bias.Bias[3].Should().Be(-100f);
        bias.Bias[5].Should().Be(2.5f);
        ((RepetitionPenaltyProcessor)pipeline.Processors[1]).Penalty.For(0).Should().BeApproximately(1.3, 1e-12);
        ((MinPProcessor)pipeline.Processors[5]).MinP.For(0).Should().Be(0.05);

        var json = new ChatOptions { AdditionalProperties = new AdditionalPropertiesDictionary { ["logit_bias"] = JsonDocument.Parse("{\"7\": 4}").RootElement } };
        ((LogitBiasProcessor)json.ToPipeline().Processors[0]).Bias[7].Should().Be(4f);
    }

    [Fact]
    public void Bad_additional_properties_are_reported_by_key()
    {
        var wrongKind = new ChatOptions { AdditionalProperties = new AdditionalPropertiesDictionary { ["min_p"] = new object() } };
        FluentActions.Invoking(() => wrongKind.ToPipeline()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("min_p");
        var biasTooBig = new ChatOptions { AdditionalProperties = new AdditionalPropertiesDictionary { ["logit_bias"] = new Dictionary<int, float> { [1] = 150f } } };
        FluentActions.Invoking(() => biasTooBig.ToPipeline()).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("logit_bias");
    }

    [Fact]
    public void The_mapped_pipeline_samples_like_the_same_pipeline_built_by_hand()
    {
        var data = LogitData.Random(1, 4097, 3);
        var mapped = new ChatOptions { Temperature = 0.8f, TopK = 40, TopP = 0.95f, Seed = 11, AdditionalProperties = new AdditionalPropertiesDictionary { ["min_p"] = 0.05 } }.ToPipeline();
        var manual = LogitPipeline.CreateBuilder().TopK(40).TopP((double)0.95f).MinP(0.05).Temperature(0.8f).Multinomial(11);
        for (int step = 0; step < 10; step++)
        {
            using var a = CpuLogitBatch.FromRows(data, 1, 4097);
            using var b = CpuLogitBatch.FromRows(data, 1, 4097);
            mapped.Sample(a, new SamplingContext()).Should().Be(manual.Sample(b, new SamplingContext()));
        }
    }

    [Fact]
    public void Generation_options_map_stop_sequences_budget_and_eos()
    {
        var options = new ChatOptions { MaxOutputTokens = 12, StopSequences = new List<string> { "ab", "" } };
        var generation = options.ToGenerationOptions(s => s.Select(c => (int)c).ToArray(), new[] { 2 });
        generation.MaxNewTokens.Should().Be(12);
        generation.EosTokenIds.Should().Equal(2);
        generation.StopSequences.Should().ContainSingle().Which.Should().Equal((int)'a', (int)'b');
        FluentActions.Invoking(() => new ChatOptions { MaxOutputTokens = 0 }.ToGenerationOptions(_ => Array.Empty<int>()))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MaxOutputTokens");
    }

    private static ChatOptions Extra(string key, object? value) =>
        new() { AdditionalProperties = new AdditionalPropertiesDictionary { [key] = value } };

    // Issue 14, defect 4: NaN in an additional property failed the "neutral value" test and dropped the step.
    [Theory]
    [InlineData("min_p")]
    [InlineData("typical_p")]
    [InlineData("top_n_sigma")]
    [InlineData("xtc_probability")]
    [InlineData("repetition_penalty")]
    [InlineData("dry_multiplier")]
    public void NaN_in_an_additional_property_throws_naming_the_key(string key)
    {
        FluentActions.Invoking(() => Extra(key, double.NaN).ToPipeline()).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(key);
    }

    // Issue 14, defect 7: conversions, key names in errors, llama.cpp server spellings, strict mode.
    public static TheoryData<string, object, string> BadAdditionalValues => new()
    {
        { "logit_bias", new Dictionary<long, double> { [1L << 40] = 1 }, "logit_bias" },
        { "logit_bias", new Dictionary<double, double> { [1.7] = 1 }, "logit_bias" },
        { "logit_bias", new Dictionary<int, double> { [-3] = 1 }, "logit_bias" },
        { "min_p", DateTime.UnixEpoch, "min_p" },
        { "min_p", true, "min_p" },
        { "min_p", 2.0, "min_p" },
        { "min_p", -0.5, "min_p" },
        { "dry_allowed_length", 2.9, "dry_allowed_length" },
        { "dry_allowed_length", 1e20, "dry_allowed_length" },
        { "dry_allowed_length", double.NaN, "dry_allowed_length" },
        { "repetition_penalty", -1.0, "repetition_penalty" },
        { "repeat_penalty", 0.0, "repeat_penalty" },
        { "repeat_last_n", 1.5, "repeat_last_n" },
        { "top_k", 40.5, "top_k" },
        { "mirostat", 3, "mirostat" },
        { "mirostat_tau", double.NaN, "mirostat_tau" },
        { "dynatemp_range", -1.0, "dynatemp_range" },
        { "temperature", double.PositiveInfinity, "temperature" },
    };

    [Theory]
    [MemberData(nameof(BadAdditionalValues))]
    public void Bad_additional_values_throw_naming_the_key(string key, object value, string name)
    {
        var options = Extra(key, value);
        options.AdditionalProperties!["dry_multiplier"] = 0.8; // DRY on: its settings are read and named
        FluentActions.Invoking(() => options.ToPipeline()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void Integral_values_of_any_numeric_kind_are_accepted_for_integer_settings_and_ids()
    {
        var options = new ChatOptions
        {
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                ["logit_bias"] = new Dictionary<long, double> { [7L] = 1 },
                ["dry_multiplier"] = 0.8,
                ["dry_allowed_length"] = 3.0,
                ["dry_penalty_last_n"] = JsonDocument.Parse("128").RootElement,
            },
        };
        var pipeline = options.ToPipeline();
        ((LogitBiasProcessor)pipeline.Processors[0]).Bias[7].Should().Be(1f);
        ((DryProcessor)pipeline.Processors[1]).Window.Should().Be(128);
    }

    [Fact]
    public void Llama_cpp_server_names_are_read()
    {
        var options = new ChatOptions
        {
            Seed = 3,
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                ["repeat_penalty"] = 1.3,
                ["repeat_last_n"] = 64,
                ["top_k"] = 40,
                ["top_p"] = 0.9,
                ["temperature"] = 0.7,
            },
        };
        var pipeline = options.ToPipeline();
        pipeline.Processors.Select(p => p.GetType()).Should().Equal(typeof(RepetitionPenaltyProcessor), typeof(TopKProcessor), typeof(TopPProcessor), typeof(TemperatureProcessor));
        var repetition = (RepetitionPenaltyProcessor)pipeline.Processors[0];
        repetition.Penalty.For(0).Should().Be(1.3);
        repetition.Window.Should().Be(64);
        ((TopKProcessor)pipeline.Processors[1]).K.For(0).Should().Be(40);
        ((TemperatureProcessor)pipeline.Processors[3]).Temperature.For(0).Should().Be(0.7);

        var mirostat = Extra("mirostat", 2);
        mirostat.AdditionalProperties!["mirostat_tau"] = 4.0;
        mirostat.AdditionalProperties["mirostat_eta"] = 0.2;
        var selector = mirostat.ToPipeline().Selector.Should().BeOfType<MirostatV2Selector>().Subject;
        selector.Tau.Should().Be(4.0);
        selector.Eta.Should().Be(0.2);

        Names(Extra("dynatemp_range", 0.5).ToPipeline()).Should().BeEmpty("dynamic temperature replaces temperature, which is not set");
        var dynamic = Extra("dynatemp_range", 0.5);
        dynamic.Temperature = 0.8f;
        Names(dynamic.ToPipeline()).Should().Equal("dynamic-temperature");
        Names(Extra("repeat_last_n", 0).ToPipeline()).Should().BeEmpty();
    }

    [Fact]
    public void Two_spellings_or_a_direct_property_and_a_key_that_disagree_are_an_error()
    {
        var both = Extra("repeat_penalty", 1.1);
        both.AdditionalProperties!["repetition_penalty"] = 1.2;
        FluentActions.Invoking(() => both.ToPipeline()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("repetition_penalty");

        var same = Extra("repeat_penalty", 1.1);
        same.AdditionalProperties!["repetition_penalty"] = "1.1";
        Names(same.ToPipeline()).Should().Equal("repetition-penalty");

        var conflict = Extra("top_k", 10);
        conflict.TopK = 20;
        FluentActions.Invoking(() => conflict.ToPipeline()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("top_k");
    }

    [Fact]
    public void Strict_mode_rejects_unknown_keys_and_the_default_ignores_them()
    {
        var options = Extra("grammar", "root ::= \"a\"");
        options.AdditionalProperties!["min_p"] = 0.1;
        Names(options.ToPipeline()).Should().Equal("min-p");
        FluentActions.Invoking(() => options.ToPipeline(SamplingOrder.LlamaCpp, UnknownKeyHandling.Reject))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("grammar");
        Names(Extra("min_p", 0.1).ToPipeline(SamplingOrder.LlamaCpp, UnknownKeyHandling.Reject)).Should().Equal("min-p");
    }
}

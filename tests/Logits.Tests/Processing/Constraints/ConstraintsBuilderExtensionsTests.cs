using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Guidance;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>The fluent methods of <see cref="ConstraintsBuilderExtensions"/>.</summary>
public sealed class ConstraintsBuilderExtensionsTests
{
    private sealed class ZeroProvider : IUnconditionalLogitsProvider
    {
        public void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
        {
        }
    }

    [Fact]
    public void Every_method_appends_its_processor_in_order()
    {
        var builder = LogitPipeline.CreateBuilder()
            .ClassifierFreeGuidance(1.5f, new ZeroProvider())
            .LogitBias(new Dictionary<int, double> { [1] = 1 })
            .SequenceBias(new[] { new SequenceBias(new[] { 1, 2 }, -1f) })
            .BadWords(new[] { new[] { 3 } })
            .MinLength(2)
            .MinNewTokens(1)
            .AllowedTokens(new[] { 0, 1, 2, 3, 4 })
            .AllowedTokens((_, _) => new[] { 0, 1, 2, 3, 4 })
            .ForcedBos(1)
            .ForcedEos(20)
            .ExponentialDecayLengthPenalty(1, 1.2)
            .SuppressTokens(new[] { 4 })
            .SuppressTokensAtBegin(new[] { 3 })
            .LogitNormalization();
        builder.Processors.Select(p => p.GetType()).Should().Equal(
            typeof(ClassifierFreeGuidanceProcessor),
            typeof(LogitBiasProcessor),
            typeof(SequenceBiasProcessor),
            typeof(BadWordsProcessor),
            typeof(MinLengthProcessor),
            typeof(MinNewTokensProcessor),
            typeof(AllowedTokensProcessor),
            typeof(AllowedTokensProcessor),
            typeof(ForcedBosProcessor),
            typeof(ForcedEosProcessor),
            typeof(ExponentialDecayLengthPenaltyProcessor),
            typeof(SuppressTokensProcessor),
            typeof(SuppressTokensAtBeginProcessor),
            typeof(LogitNormalizationProcessor));
    }

    [Fact]
    public void A_pipeline_of_constraints_selects_the_forced_token()
    {
        var pipeline = LogitPipeline.CreateBuilder()
            .LogitBias(new Dictionary<int, double> { [3] = 10 })
            .ForcedBos(2)
            .Greedy();
        var logits = CpuLogitBatch.FromRows(new float[] { 0, 1, 2, 3, 4 }, 1, 5);
        var contexts = SamplingContext.ForRows(1);
        pipeline.Process(logits, contexts);
        logits.ToArray().Should().Equal(float.NegativeInfinity, float.NegativeInfinity, 0f, float.NegativeInfinity, float.NegativeInfinity);
    }

    [Fact]
    public void Null_builder_throws()
    {
        FluentActions.Invoking(() => ConstraintsBuilderExtensions.LogitNormalization(null!)).Should().Throw<ArgumentNullException>();
    }
}

using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Pipelines;

/// <summary>The fluent methods of <see cref="TruncationBuilderExtensions"/>.</summary>
public sealed class TruncationBuilderExtensionsTests
{
    private static readonly float[] B = { 3f, 2f, 1f, 0.5f, 0f, -1f, float.NegativeInfinity };

    [Fact]
    public void Builder_appends_processors_in_call_order()
    {
        var pipeline = LogitPipeline.CreateBuilder()
            .TopNSigma(2.0).Typical(0.9, boundary: TypicalBoundary.Strict).Epsilon(0.01).Eta(0.01)
            .Xtc(1.0, 0.05, seed: 3, protectedTokens: new[] { 6 })
            .DynamicTemperature(1f, 0.5f, 2f)
            .Multinomial(42);
        pipeline.Processors.Select(p => p.GetType()).Should().Equal(
            typeof(TopNSigmaProcessor), typeof(TypicalProcessor), typeof(EpsilonProcessor), typeof(EtaProcessor),
            typeof(XtcProcessor), typeof(DynamicTemperatureProcessor));
        ((TypicalProcessor)pipeline.Processors[1]).Boundary.Should().Be(TypicalBoundary.Strict);
        ((XtcProcessor)pipeline.Processors[4]).ProtectedTokens.Should().Equal(6);

        using var batch = CpuLogitBatch.FromRow(B);
        int token = pipeline.Sample(batch, new SamplingContext());
        token.Should().BeOneOf(2, 3);
    }

    [Fact]
    public void Mirostat_selectors_end_the_pipeline_and_clone_with_it()
    {
        var v1 = LogitPipeline.CreateBuilder().Temperature(0.8f).MirostatV1(seed: 1, tau: 3, eta: 0.2, m: 50, nVocab: 1000);
        var selector = v1.Selector.Should().BeOfType<MirostatV1Selector>().Subject;
        (selector.Tau, selector.Eta, selector.M, selector.NVocab).Should().Be((3.0, 0.2, 50, (int?)1000));

        var v2 = LogitPipeline.CreateBuilder().MirostatV2(seed: 2, tau: 4);
        v2.Selector.Should().BeOfType<MirostatV2Selector>().Which.Tau.Should().Be(4);

        using var batch = CpuLogitBatch.FromRow(B);
        var clone = v2.Clone();
        using var copy = CpuLogitBatch.FromRow(B);
        int fromClone = clone.Sample(copy, new SamplingContext());
        v2.Sample(batch, new SamplingContext()).Should().Be(fromClone);
        clone.Selector.Should().NotBeSameAs(v2.Selector);
    }
}

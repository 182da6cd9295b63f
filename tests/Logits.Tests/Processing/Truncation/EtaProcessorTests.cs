using System.Linq;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>Eta sampling (docs/algorithms/truncation.md#eta) on every backend.</summary>
public abstract class EtaProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Fact]
    public void Spec_vectors()
    {
        double h = ReferenceTruncation.Entropy(B);
        h.Should().BeApproximately(1.147800, 1e-6);
        EtaProcessor.Eta(0.3, h).Should().BeApproximately(0.173811, 1e-6);
        EtaProcessor.Eta(0.01, h).Should().Be(0.01);

        AssertKeptSet(B, Run(Create, new EtaProcessor(0.3), B), new[] { 0, 1 }, "eta 0.3");
        AssertKeptSet(B, Run(Create, new EtaProcessor(0.01), B), new[] { 0, 1, 2, 3, 4, 5 }, "eta 0.01");
        AssertKeptSet(B, Run(Create, new EpsilonProcessor(0.3), B), new[] { 0 }, "plain epsilon 0.3");
    }

    [Fact]
    public void Min_tokens_to_keep_and_metadata()
    {
        AssertKeptSet(B, Run(Create, new EtaProcessor(0.3, 4), B), new[] { 0, 1, 2, 3 }, "m_keep 4");
        var processor = new EtaProcessor(0.3);
        processor.IsArgmaxInvariant.Should().BeTrue();
        processor.Name.Should().Be("eta");
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        double[] epsilons = { 3e-4, 9e-4, 0.05, 0.3, 0.01 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 3));
            foreach (int minKeep in new[] { 1, 3 })
            {
                var eps = Enumerable.Range(0, rows).Select(r => epsilons[(r + minKeep) % epsilons.Length]).ToArray();
                var output = Run(Create, new EtaProcessor(eps, minKeep), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var input = LogitData.Row(data, vocab, r);
                    AssertThresholdRule(input, LogitData.Row(output, vocab, r), ReferenceTruncation.EtaThreshold(input, eps[r]), minKeep, $"row {r}, epsilon {eps[r]}");
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new EtaProcessor(0.3));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double epsilon in new[] { 0.0, 1.0, -0.1, double.NaN, double.NegativeInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new EtaProcessor(epsilon), "epsilon");
        }

        ShouldThrowOutOfRange(() => _ = new EtaProcessor(new[] { 0.1, 2.0 }), "epsilon");
        ShouldThrowOutOfRange(() => _ = new EtaProcessor(0.1, -1), "minTokensToKeep");
    }
}

public sealed class CpuEtaProcessorTests : EtaProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System.Linq;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>Epsilon sampling (docs/algorithms/truncation.md#epsilon) on every backend.</summary>
public abstract class EpsilonProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Fact]
    public void Spec_vector_epsilon_0_05()
    {
        ReferenceTruncation.EpsilonThreshold(B, 0.05).Should().BeApproximately(0.507103, 1e-6);
        AssertKeptSet(B, Run(Create, new EpsilonProcessor(0.05), B), new[] { 0, 1, 2 }, "epsilon 0.05");
    }

    [Theory]
    [InlineData(0.3, 1, new[] { 0 })]
    [InlineData(0.3, 3, new[] { 0, 1, 2 })]
    [InlineData(0.9, 1, new[] { 0 })]
    [InlineData(0.001, 1, new[] { 0, 1, 2, 3, 4, 5 })]
    public void Cut_and_min_tokens_to_keep(double epsilon, int minTokensToKeep, int[] kept) =>
        AssertKeptSet(B, Run(Create, new EpsilonProcessor(epsilon, minTokensToKeep), B), kept, $"epsilon {epsilon}");

    [Fact]
    public void Is_argmax_invariant()
    {
        var processor = new EpsilonProcessor(0.5);
        processor.IsArgmaxInvariant.Should().BeTrue();
        processor.Name.Should().Be("epsilon");

        // A flat row: every p = 1/10 < 0.5, yet the (tied) top survives.
        var flat = Enumerable.Repeat(1f, 10).ToArray();
        Kept(Run(Create, processor, flat)).Should().NotBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        double[] epsilons = { 3e-4, 9e-4, 0.05, 0.3, 0.01 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 2));
            foreach (int minKeep in new[] { 1, 3 })
            {
                var eps = Enumerable.Range(0, rows).Select(r => epsilons[(r + minKeep) % epsilons.Length]).ToArray();
                var output = Run(Create, new EpsilonProcessor(eps, minKeep), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var input = LogitData.Row(data, vocab, r);
                    AssertThresholdRule(input, LogitData.Row(output, vocab, r), ReferenceTruncation.EpsilonThreshold(input, eps[r]), minKeep, $"row {r}, epsilon {eps[r]}");
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new EpsilonProcessor(0.05));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double epsilon in new[] { 0.0, 1.0, -0.1, 1.5, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new EpsilonProcessor(epsilon), "epsilon");
        }

        ShouldThrowOutOfRange(() => _ = new EpsilonProcessor(0.1, 0), "minTokensToKeep");
    }
}

public sealed class CpuEpsilonProcessorTests : EpsilonProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

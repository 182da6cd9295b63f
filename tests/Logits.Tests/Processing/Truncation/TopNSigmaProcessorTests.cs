using System.Linq;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Truncation.TruncationTestKit;

namespace Logits.Tests.Processing.Truncation;

/// <summary>Top-nσ (docs/algorithms/truncation.md#top-n-sigma) on every backend.</summary>
public abstract class TopNSigmaProcessorTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    [Theory]
    [InlineData(1.0, 1.695627, new[] { 0, 1 })]
    [InlineData(2.0, 0.391254, new[] { 0, 1, 2, 3 })]
    public void Spec_vectors(double n, double threshold, int[] kept)
    {
        ReferenceTruncation.TopNSigmaThreshold(B, n).Should().BeApproximately(threshold, 1e-6);
        AssertKeptSet(B, Run(Create, new TopNSigmaProcessor(n), B), kept, $"n {n}");
    }

    [Fact]
    public void Single_finite_token_is_a_no_op_and_min_tokens_to_keep_applies()
    {
        var single = new[] { float.NegativeInfinity, 2f, float.NegativeInfinity };
        Run(Create, new TopNSigmaProcessor(0.001), single).Should().Equal(single);
        AssertKeptSet(B, Run(Create, new TopNSigmaProcessor(1.0, 3), B), new[] { 0, 1, 2 }, "m_keep 3");
        var processor = new TopNSigmaProcessor(1.0);
        processor.IsArgmaxInvariant.Should().BeTrue();
        processor.Name.Should().Be("top-n-sigma");
    }

    [Fact]
    public void Kept_set_is_invariant_under_temperature()
    {
        var scaled = B.Select(z => z / 0.37f).ToArray();
        Kept(Run(Create, new TopNSigmaProcessor(1.0), scaled)).Should().Equal(0, 1);
    }

    [Theory]
    [MemberData(nameof(Vocabs), MemberType = typeof(TruncationTestKit))]
    public void Matches_reference(int vocab)
    {
        double[] ns = { 1.0, 2.0, 0.5, 3.0, 0.01 };
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 4));
            foreach (int minKeep in new[] { 1, 3 })
            {
                var n = Enumerable.Range(0, rows).Select(r => ns[(r + minKeep) % ns.Length]).ToArray();
                var output = Run(Create, new TopNSigmaProcessor(n, minKeep), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var input = LogitData.Row(data, vocab, r);
                    AssertThresholdRule(input, LogitData.Row(output, vocab, r), ReferenceTruncation.TopNSigmaThreshold(input, n[r]), minKeep, $"row {r}, n {n[r]}");
                }
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through() => AssertEmptyRowPassesThrough(Create, new TopNSigmaProcessor(1.0));

    [Fact]
    public void Invalid_parameters_throw()
    {
        foreach (double n in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
        {
            ShouldThrowOutOfRange(() => _ = new TopNSigmaProcessor(n), "n");
        }

        ShouldThrowOutOfRange(() => _ = new TopNSigmaProcessor(1.0, 0), "minTokensToKeep");
    }
}

public sealed class CpuTopNSigmaProcessorTests : TopNSigmaProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

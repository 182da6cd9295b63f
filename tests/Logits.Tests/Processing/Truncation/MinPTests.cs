using System;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Truncation;

public abstract class MinPTests : ProcessorTestBase
{
    [Theory]
    [InlineData(0.1, new[] { 0, 1, 2 })]
    [InlineData(0.2, new[] { 0, 1 })]
    [InlineData(0.05, new[] { 0, 1, 2, 3 })]
    [InlineData(0.0, new[] { 0, 1, 2, 3, 4, 5 })]
    [InlineData(1.0, new[] { 0 })]
    public void Spec_7_3_vectors(double pMin, int[] kept) => Kept(Run(new MinPProcessor(pMin), BaseRow)).Should().Equal(kept);

    [Fact]
    public void Min_tokens_to_keep_lowers_the_threshold()
    {
        Kept(Run(new MinPProcessor(0.2, minTokensToKeep: 4), BaseRow)).Should().Equal(0, 1, 2, 3);
        Kept(Run(new MinPProcessor(1.0, minTokensToKeep: 100), BaseRow)).Should().Equal(0, 1, 2, 3, 4, 5);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Invalid_min_p_is_rejected(double pMin) =>
        FluentActions.Invoking(() => new MinPProcessor(pMin)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minP");

    [Fact]
    public void Random_rows_with_per_row_min_p_match_the_reference()
    {
        foreach (int vocab in ReferenceVocabs())
        {
            var (data, rows) = RandomBatch(vocab, vocab + 17);
            var pMin = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                pMin[r] = new[] { 0.0, 0.05, 0.1, 0.5, 1.0 }[(r + vocab) % 5];
            }

            var actual = RunRows(new MinPProcessor(pMin, 2), data, rows, vocab);
            for (int r = 0; r < rows; r++)
            {
                AssertRowEqual(actual[r], ReferenceProcessors.MinP(LogitData.Row(data, vocab, r), pMin[r], 2), $"vocab {vocab}, row {r}, min-p {pMin[r]}");
            }
        }
    }
}

public sealed class CpuMinPTests : MinPTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Truncation;

public abstract class TopKTests : ProcessorTestBase
{
    [Fact]
    public void Spec_7_3_vectors()
    {
        Kept(Run(new TopKProcessor(3), BaseRow)).Should().Equal(0, 1, 2);
        Kept(Run(new TopKProcessor(2), new[] { 1f, 3f, 2f, 2f, 0f })).Should().Equal(1, 2, 3);
        Kept(Run(new TopKProcessor(2, tieMode: TopKTieMode.ExactK), new[] { 1f, 3f, 2f, 2f, 0f })).Should().Equal(1, 2);
        Kept(Run(new TopKProcessor(2, minTokensToKeep: 4), BaseRow)).Should().Equal(0, 1, 2, 3);
        Run(new TopKProcessor(10), BaseRow).Should().Equal(BaseRow);
    }

    [Fact]
    public void Invalid_parameters_name_the_parameter()
    {
        FluentActions.Invoking(() => new TopKProcessor(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("k");
        FluentActions.Invoking(() => new TopKProcessor(new[] { 3, -1 })).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("k");
        FluentActions.Invoking(() => new TopKProcessor(3, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minTokensToKeep");
        FluentActions.Invoking(() => new TopKProcessor(3, 1, (TopKTieMode)7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("tieMode");
    }

    [Fact]
    public void Random_rows_with_per_row_k_match_the_reference_in_both_tie_modes()
    {
        foreach (int vocab in ReferenceVocabs())
        {
            var (data, rows) = RandomBatch(vocab, vocab + 11);
            var k = new int[rows];
            for (int r = 0; r < rows; r++)
            {
                k[r] = new[] { 1, 2, 5, 40, 1000 }[(r + vocab) % 5];
            }

            foreach (var mode in new[] { TopKTieMode.IncludeTies, TopKTieMode.ExactK })
            {
                var actual = RunRows(new TopKProcessor(k, 2, mode), data, rows, vocab);
                for (int r = 0; r < rows; r++)
                {
                    var row = LogitData.Row(data, vocab, r);
                    var expected = mode == TopKTieMode.ExactK ? ReferenceProcessors.TopKExact(row, k[r], 2) : ReferenceProcessors.TopK(row, k[r], 2);
                    AssertRowEqual(actual[r], expected, $"vocab {vocab}, row {r}, k {k[r]}, {mode}");
                    Kept(actual[r]).Length.Should().BeGreaterThanOrEqualTo(Math.Min(2, Kept(row).Length), "minTokensToKeep survives");
                }
            }
        }
    }

    [Fact]
    public void An_all_negative_infinity_row_passes_through()
    {
        var rows = RunRows(new TopKProcessor(1), new[] { NegInf, NegInf, 1f, 2f }, 2, 2);
        rows[0].Should().Equal(NegInf, NegInf);
        rows[1].Should().Equal(NegInf, 2f);
    }
}

public sealed class CpuTopKTests : TopKTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using FluentAssertions;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Truncation;

public abstract class TopPTests : ProcessorTestBase
{
    [Theory]
    [InlineData(0.5, new[] { 0 })]
    [InlineData(0.8, new[] { 0, 1 })]
    [InlineData(0.9, new[] { 0, 1, 2 })]
    [InlineData(0.95, new[] { 0, 1, 2, 3 })]
    [InlineData(0.0, new[] { 0 })]
    [InlineData(1.0, new[] { 0, 1, 2, 3, 4, 5 })]
    public void Spec_7_3_vectors(double p, int[] kept) => Kept(Run(new TopPProcessor(p), BaseRow)).Should().Equal(kept);

    [Fact]
    public void Ties_stay_whole_and_the_boundary_illustration_keeps_two()
    {
        Kept(Run(new TopPProcessor(0.3), new[] { 1f, 1f, 0f })).Should().Equal(0, 1);
        var probabilities = new[] { 0.5, 0.3, 0.1, 0.1 };
        var logits = Array.ConvertAll(probabilities, v => (float)Math.Log(v));
        Kept(Run(new TopPProcessor(0.8), logits)).Should().Equal(0, 1);
    }

    [Theory]
    [InlineData(0.5, new[] { 0 })]
    [InlineData(0.8, new[] { 0, 1 })]
    [InlineData(0.9, new[] { 0, 1, 2 })]
    [InlineData(0.95, new[] { 0, 1, 2, 3 })]
    [InlineData(0.0, new[] { 0 })]
    [InlineData(1.0, new[] { 0, 1, 2, 3, 4, 5 })]
    public void Hf_complement_mode_matches_the_inclusive_vectors_away_from_the_boundary(double p, int[] kept) =>
        Kept(Run(new TopPProcessor(p, mode: TopPMode.HfComplement), BaseRow)).Should().Equal(kept);

    [Fact]
    public void Hf_complement_mode_reproduces_hf_on_the_boundary_case_and_honours_min_tokens()
    {
        // docs/algorithms/truncation.md#top-p: for float32 logits ln[0.5, 0.3, 0.1, 0.1] at P = 0.8, HF's complement keeps {0, 1}.
        var logits = Array.ConvertAll(new[] { 0.5, 0.3, 0.1, 0.1 }, v => (float)Math.Log(v));
        Kept(Run(new TopPProcessor(0.8, mode: TopPMode.HfComplement), logits)).Should().Equal(0, 1);
        Kept(Run(new TopPProcessor(0.5, 3, TopPMode.HfComplement), BaseRow)).Should().Equal(0, 1, 2);
        Kept(Run(new TopPProcessor(0.3, mode: TopPMode.HfComplement), new[] { 1f, 1f, 0f })).Should().Equal(0, 1);
        FluentActions.Invoking(() => new TopPProcessor(0.5, 1, (TopPMode)9)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("mode");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Invalid_p_is_rejected(double p) =>
        FluentActions.Invoking(() => new TopPProcessor(p)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("p");

    [Fact]
    public void Random_rows_with_per_row_p_match_the_reference()
    {
        foreach (int vocab in ReferenceVocabs())
        {
            var (data, rows) = RandomBatch(vocab, vocab + 13);
            var p = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                p[r] = new[] { 0.0, 0.5, 0.9, 0.95, 1.0 }[(r + vocab) % 5];
            }

            var actual = RunRows(new TopPProcessor(p, 3), data, rows, vocab);
            for (int r = 0; r < rows; r++)
            {
                var (expected, margin) = ReferenceProcessors.TopP(LogitData.Row(data, vocab, r), p[r], 3);
                if (margin > 1e-5)
                {
                    AssertRowEqual(actual[r], expected, $"vocab {vocab}, row {r}, p {p[r]}");
                }
            }
        }
    }

    [Fact]
    public void An_all_negative_infinity_row_passes_through()
    {
        var rows = RunRows(new TopPProcessor(0.5), new[] { NegInf, NegInf, 1f, 2f }, 2, 2);
        rows[0].Should().Equal(NegInf, NegInf);
        rows[1].Should().Equal(NegInf, 2f);
    }
}

public sealed class CpuTopPTests : TopPTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

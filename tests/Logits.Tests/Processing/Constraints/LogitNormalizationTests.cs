using System;
using FluentAssertions;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>Logit normalisation (docs/algorithms/constraints.md#logit-normalisation) on every backend.</summary>
public abstract class LogitNormalizationTests : ConstraintTestBase
{
    [Fact]
    public void Spec_vector()
    {
        LogitNormalizationProcessor.Instance.IsArgmaxInvariant.Should().BeTrue();
        AssertClose(
            RunRow(LogitNormalizationProcessor.Instance, B),
            new[] { -0.502835, -1.502835, -2.502835, -3.002835, -3.502835, -4.502835, double.NegativeInfinity },
            "log-softmax of B",
            scale: 3);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 23));
            var actual = Run(LogitNormalizationProcessor.Instance, data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                AssertRow(actual, vocab, r, ReferenceConstraints.LogSoftmax(row), "logit normalisation", LogScale(row));
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        AssertEmptyRowPassesThrough(LogitNormalizationProcessor.Instance, 5, Contexts(2, Array.Empty<int>()));
    }
}

/// <summary>Logit normalisation on the CPU backend.</summary>
public sealed class CpuLogitNormalizationTests : LogitNormalizationTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// <see cref="CpuLogitBatch.CopyRowFrom"/>: a copy that also checks the row and remembers its maximum for the next
/// pipeline call. The remembered maximum must never be used once the row may have changed.
/// </summary>
public class CpuLogitBatchCopyRowFromTests
{
    private static LogitPipeline MaxDependent() => LogitPipeline.CreateBuilder().MinP(0.3).Temperature(0.7f).Multinomial(11);

    /// <summary>Processes a fresh batch holding <paramref name="row"/> (the reference).</summary>
    private static float[] Processed(float[] row)
    {
        using var fresh = CpuLogitBatch.FromRow(row);
        MaxDependent().Process(fresh, new[] { new SamplingContext() });
        return fresh.ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(512)]
    [InlineData(4097)]
    [InlineData(32000)]
    public void CopiesTheRowAndTheNextPipelineCallGivesTheSameResultAsACopyThroughGetRow(int vocab)
    {
        var data = LogitData.Random(3, vocab, vocab);
        for (int r = 0; r < 3; r++)
        {
            var row = LogitData.Row(data, vocab, r);
            using var viaCopyRowFrom = new CpuLogitBatch(2, vocab);
            using var viaGetRow = new CpuLogitBatch(2, vocab);
            viaCopyRowFrom.CopyRowFrom(1, row);
            row.CopyTo(viaGetRow.GetRow(1));
            viaCopyRowFrom.ToArray().Should().Equal(viaGetRow.ToArray());

            var contexts = SamplingContext.ForRows(2);
            var tokens = new int[2];
            var expected = new int[2];
            MaxDependent().Sample(viaCopyRowFrom, contexts, tokens);
            MaxDependent().Sample(viaGetRow, contexts, expected);
            tokens.Should().Equal(expected);
            viaCopyRowFrom.ToArray().Should().Equal(viaGetRow.ToArray());
        }
    }

    [Fact]
    public void NaNAndPositiveInfinityThrowNamingRowAndToken()
    {
        using var batch = new CpuLogitBatch(3, 100);
        var row = Enumerable.Range(0, 100).Select(i => (float)i).ToArray();
        row[57] = float.NaN;
        batch.Invoking(b => b.CopyRowFrom(2, row)).Should().Throw<InvalidLogitsException>()
            .Which.Should().Match<InvalidLogitsException>(e => e.Row == 2 && e.TokenIndex == 57);
        row[57] = 1f;
        row[99] = float.PositiveInfinity;
        batch.Invoking(b => b.CopyRowFrom(0, row)).Should().Throw<InvalidLogitsException>()
            .Which.TokenIndex.Should().Be(99);
        batch.Invoking(b => b.CopyRowFrom(3, row)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("row");
        batch.Invoking(b => b.CopyRowFrom(0, new float[99])).Should().Throw<ArgumentException>().WithParameterName("source");
    }

    [Fact]
    public void ARowChangedAfterTheCopyIsCheckedAgainInsteadOfUsingTheRememberedMaximum()
    {
        var row = Enumerable.Range(0, 64).Select(i => (float)Math.Sin(i)).ToArray();
        var changed = (float[])row.Clone();
        changed[10] = 9f; // a new maximum the remembered one does not know

        // Through GetRow.
        using (var batch = new CpuLogitBatch(1, 64))
        {
            batch.CopyRowFrom(0, row);
            batch.GetRow(0)[10] = 9f;
            MaxDependent().Process(batch, new[] { new SamplingContext() });
            batch.ToArray().Should().Equal(Processed(changed));
        }

        // Through a kernel called outside a pipeline.
        using (var batch = new CpuLogitBatch(1, 64))
        {
            batch.CopyRowFrom(0, row);
            batch.Kernels.Scale(batch, new[] { 3f }, batch);
            MaxDependent().Process(batch, new[] { new SamplingContext() });
            batch.ToArray().Should().Equal(Processed(row.Select(v => v * 3f).ToArray()));
        }

        // Through CopyFrom and AsSpan.
        using (var batch = new CpuLogitBatch(1, 64))
        {
            batch.CopyRowFrom(0, row);
            batch.AsSpan()[10] = 9f;
            MaxDependent().Process(batch, new[] { new SamplingContext() });
            batch.ToArray().Should().Equal(Processed(changed));
        }

        // A batch over caller memory remembers nothing: the caller may write the array directly.
        var memory = new float[64];
        using (var wrapped = new CpuLogitBatch(memory, 1, 64))
        {
            wrapped.CopyRowFrom(0, row);
            memory[10] = 9f;
            MaxDependent().Process(wrapped, new[] { new SamplingContext() });
            memory.Should().Equal(Processed(changed));
        }

        // A NaN written after the copy is still found by the pipeline's entry check.
        using (var batch = new CpuLogitBatch(1, 64))
        {
            batch.CopyRowFrom(0, row);
            batch.GetRow(0)[3] = float.NaN;
            batch.Invoking(b => MaxDependent().Process(b, new[] { new SamplingContext() })).Should().Throw<InvalidLogitsException>();
        }
    }
}

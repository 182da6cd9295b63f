using System;
using FluentAssertions;
using Logits.Generation;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Generation;

public sealed class HostLogitRowsTests
{
    [Fact]
    public void A_cpu_batch_is_written_in_place()
    {
        var staging = new HostLogitRows(3);
        using var batch = new CpuLogitBatch(2, 3);
        var rows = staging.Open(batch, 2, "destination");
        rows.Length.Should().Be(6);
        new float[] { 1, 2, 3, 4, 5, 6 }.CopyTo(rows.Span);
        staging.Complete(batch);
        batch.GetRow(1).ToArray().Should().Equal(4, 5, 6);
    }

    [Fact]
    public void Another_backend_gets_the_staged_rows_on_complete()
    {
        var staging = new HostLogitRows(3);
        var batch = new RecordingBatch(2, 3);
        var rows = staging.Open(batch, 2, "destination");
        new float[] { 1, 2, 3, 4, 5, 6 }.CopyTo(rows.Span);
        batch.Received.Should().BeNull("nothing is copied before Complete");
        staging.Complete(batch);
        batch.Received.Should().Equal(1, 2, 3, 4, 5, 6);

        // A smaller call reuses the buffer and copies only its own rows.
        var one = new RecordingBatch(1, 3);
        staging.Open(one, 1, "destination").Span.Fill(7);
        staging.Complete(one);
        one.Received.Should().Equal(7, 7, 7);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(2, 4)]
    public void A_batch_of_another_shape_is_rejected_by_name(int rows, int vocab)
    {
        var staging = new HostLogitRows(3);
        using var batch = new CpuLogitBatch(rows, vocab);
        var act = () => staging.Open(batch, 2, "destination");
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("destination");
    }

    [Fact]
    public void The_row_length_must_be_positive()
    {
        var act = () => new HostLogitRows(0);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("vocab");
    }

    private sealed class RecordingBatch : LogitBatch
    {
        public RecordingBatch(int rows, int vocab)
            : base(rows, vocab)
        {
        }

        public float[]? Received { get; private set; }

        public override ILogitKernels Kernels => throw new NotSupportedException();

        public override LogitBatch CreateLike() => new RecordingBatch(Rows, Vocab);

        public override void CopyFrom(ReadOnlySpan<float> source) => Received = source.ToArray();

        public override void CopyTo(Span<float> destination) => throw new NotSupportedException();

        public override void CopyRowTo(int row, Span<float> destination) => throw new NotSupportedException();
    }
}

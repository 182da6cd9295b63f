using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>Construction, ownership and copies of <see cref="TorchLogitBatch"/>.</summary>
public sealed class TorchLogitBatchTests
{
    [Fact]
    public void Wrap_rejects_wrong_dtype_and_rank()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(zeros(2, 3, ScalarType.Float64))).ParamName.Should().Be("tensor");
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(zeros(new long[] { 6 }))).ParamName.Should().Be("tensor");
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(zeros(1, 2, 3))).ParamName.Should().Be("tensor");
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(zeros(0, 3))).ParamName.Should().Be("tensor");
        Assert.Throws<ArgumentNullException>(() => TorchLogitBatch.Wrap(null!));
    }

    // Issue 14, defect 8: an expanded view and a leaf that requires grad were accepted, and the first kernel then
    // failed with a libtorch C++ stack trace.
    [Fact]
    public void Wrap_rejects_expanded_views_and_tensors_that_require_grad_with_the_fix_in_the_message()
    {
        using var scope = NewDisposeScope();
        var expanded = tensor(new float[] { 1, 2, 3 }).expand(4, 3);
        var error = Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(expanded));
        error.ParamName.Should().Be("tensor");
        error.Message.Should().Contain("stride 0 in dimension 0").And.Contain("clone()");

        var leaf = zeros(2, 3).requires_grad_();
        error = Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(leaf));
        error.ParamName.Should().Be("tensor");
        error.Message.Should().Contain("requires grad").And.Contain("detach()");

        // The suggested fixes work: a detached leaf shares its memory; a one-row expand (stride 0 over length 1) is fine.
        using (var batch = TorchLogitBatch.Wrap(leaf.detach()))
        {
            batch.Kernels.Scale(batch, 2f, batch);
        }

        using (var single = TorchLogitBatch.Wrap(tensor(new float[] { 1, 2, 3 }).expand(1, 3)))
        {
            single.Rows.Should().Be(1);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Half_and_bfloat16_are_rejected_by_Wrap_and_upcast_by_FromTensor(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var values = new float[] { 1.5f, -2.25f, 8f, 0.125f, -0.5f, 3f };
        var source = tensor(values).reshape(2, 3).to_type(dtype);
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.Wrap(source)).Message.Should().Contain("FromTensor");

        using var batch = TorchLogitBatch.FromTensor(source.expand(2, 3).requires_grad_(false));
        batch.Tensor.dtype.Should().Be(ScalarType.Float32);
        batch.ToArray().Should().Equal(values, "these values are exact in half and bfloat16");
        batch.Kernels.Scale(batch, 2f, batch);
        source.to_type(ScalarType.Float32).data<float>().ToArray().Should().Equal(values, "FromTensor copies");
    }

    [Fact]
    public void FromTensor_copies_views_and_tensors_that_require_grad_and_rejects_non_floating_dtypes()
    {
        using var scope = NewDisposeScope();
        using (var fromExpanded = TorchLogitBatch.FromTensor(tensor(new float[] { 1, 2, 3 }).expand(2, 3)))
        {
            fromExpanded.ToArray().Should().Equal(1f, 2f, 3f, 1f, 2f, 3f);
        }

        using (var fromGrad = TorchLogitBatch.FromTensor(ones(2, 2, ScalarType.Float64).requires_grad_()))
        {
            fromGrad.Tensor.requires_grad.Should().BeFalse();
            fromGrad.ToArray().Should().Equal(1f, 1f, 1f, 1f);
        }

        Assert.Throws<ArgumentException>(() => TorchLogitBatch.FromTensor(zeros(2, 3, ScalarType.Int64))).ParamName.Should().Be("tensor");
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.FromTensor(zeros(6))).ParamName.Should().Be("tensor");
    }

    [Fact]
    public void Wrap_shares_the_tensor_and_does_not_dispose_it()
    {
        using var tensor = TensorValues.Range(6).reshape(2, 3);
        using (var batch = TorchLogitBatch.Wrap(tensor))
        {
            (batch.Rows, batch.Vocab).Should().Be((2, 3));
            batch.Kernels.Scale(batch, 2f, batch);
        }

        tensor.IsInvalid.Should().BeFalse();
        tensor.data<float>().ToArray().Should().Equal(0f, 2f, 4f, 6f, 8f, 10f);
    }

    [Fact]
    public void Owned_tensor_is_disposed_with_the_batch_and_survives_an_enclosing_scope()
    {
        TorchLogitBatch batch;
        using (var scope = NewDisposeScope())
        {
            batch = TorchLogitBatch.FromArray(new[] { 1f, 2f }, 1, 2);
        }

        batch.Tensor.IsInvalid.Should().BeFalse("the batch, not the scope, owns its tensor");
        batch.ToArray().Should().Equal(1f, 2f);
        batch.Dispose();
        batch.Tensor.IsInvalid.Should().BeTrue();
    }

    [Fact]
    public void Copies_round_trip_and_CreateLike_is_zero_on_the_same_device()
    {
        var values = Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray();
        using var cpu = CpuLogitBatch.FromRows(values, 3, 4);
        using var batch = TorchLogitBatch.FromCpu(cpu);
        batch.ToArray().Should().Equal(values);
        var row = new float[5];
        batch.CopyRowTo(1, row);
        row.Should().Equal(2f, 2.5f, 3f, 3.5f, 0f);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.CopyRowTo(3, row)).ParamName.Should().Be("row");
        Assert.Throws<ArgumentException>(() => batch.CopyFrom(new float[11])).ParamName.Should().Be("source");
        Assert.Throws<ArgumentException>(() => batch.CopyTo(new float[11])).ParamName.Should().Be("destination");
        Assert.Throws<ArgumentException>(() => TorchLogitBatch.FromArray(new float[5], 2, 3)).ParamName.Should().Be("values");

        using var like = (TorchLogitBatch)batch.CreateLike();
        (like.Rows, like.Vocab, like.Device.type).Should().Be((3, 4, batch.Device.type));
        like.ToArray().Should().OnlyContain(v => v == 0f);
        like.Kernels.Name.Should().Be("torch");
    }

    [Fact]
    public void Kernels_work_on_a_non_contiguous_view()
    {
        // [vocab, rows] transposed to a [rows, vocab] view: strides (1, rows).
        var values = new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, float.NegativeInfinity, 11f, 12f };
        using var storage = tensor(values, new long[] { 4, 3 });
        using var view = storage.t();
        view.is_contiguous().Should().BeFalse();
        using var batch = TorchLogitBatch.Wrap(view);
        (batch.Rows, batch.Vocab).Should().Be((3, 4));
        var expectedRows = new[] { new[] { 1f, 4f, 7f, float.NegativeInfinity }, new[] { 2f, 5f, 8f, 11f }, new[] { 3f, 6f, 9f, 12f } };
        batch.ToArray().Should().Equal(expectedRows.SelectMany(r => r));
        var row = new float[4];
        batch.CopyRowTo(2, row);
        row.Should().Equal(expectedRows[2]);

        var tokens = new int[3];
        batch.Kernels.ArgMax(batch, tokens);
        tokens.Should().Equal(2, 3, 3);
        batch.Kernels.ScatterAdd(batch, new[] { 0, 1, 2, -1, 3, 0 }, new[] { 10f, 1f, 1f, 0f, -1f, 0.5f });
        batch.Kernels.Softmax(batch, batch);
        var p = batch.ToArray();
        p[3].Should().Be(0f);
        Enumerable.Range(0, 3).Select(r => p.Skip(r * 4).Take(4).Sum()).Should().OnlyContain(s => Math.Abs(s - 1) < 1e-6);
        p[0].Should().BeApproximately((float)(Math.Exp(11) / (Math.Exp(11) + Math.Exp(5) + Math.Exp(7))), 1e-6f, "token 0 of row 0 got +10 and token 1 got -1");

        batch.CopyFrom(expectedRows.SelectMany(r => r).ToArray());
        storage.data<float>().ToArray().Should().Equal(values, "CopyFrom writes through the view");
    }
}

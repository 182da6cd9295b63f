using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>Stable softmax of one row: Logits' kernel against TensorPrimitives, TorchSharp, a scalar loop and a row copy.</summary>
/// <remarks>
/// <c>TensorPrimitives.SoftMax</c> does not subtract the row maximum: it overflows for logits above about 88.7 and
/// returns NaN (docs/algorithms/conventions.md#precision), so Logits never uses it. The input here peaks near 16, so it computes the same
/// values and is a fair speed reference. llama.cpp has no standalone softmax sampler in its public API.
/// </remarks>
[Case("softmax")]
public class SoftmaxBenchmarks : SamplingCase, ICheckedCase
{
    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' stable softmax, in place after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits Softmax (copy in + in place)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        Input.AsSpan().CopyTo(Batch.AsSpan()); // a plain copy: the kernel checks the row itself
        Batch.Kernels.Softmax(Batch, Batch);
    }

    /// <summary>The BCL's unstable softmax (no max subtraction).</summary>
    [Benchmark(Description = "TensorPrimitives.SoftMax (unstable)")]
    [Peer(Peer.TensorPrimitives)]
    public void TensorPrimitivesSoftMax()
    {
        Next();
        TensorPrimitives.SoftMax(Input, Destination);
    }

    /// <summary>TorchSharp's softmax on CPU libtorch.</summary>
    [Benchmark(Description = "TorchSharp softmax")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        torch.nn.functional.softmax(Tensor, 0);
    }

    /// <summary>A scalar stable softmax.</summary>
    [Benchmark(Description = "scalar stable softmax")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.Softmax(Input, Destination);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        Logits();
        var logits = Batch.ToArray();
        TensorPrimitivesSoftMax();
        string? tp = CompareValues("TensorPrimitives", logits, Destination, 1e-5, 1e-12);
        Scalar();
        string? scalar = CompareValues("scalar", logits, Destination, 1e-5, 1e-12);
        using var scope = torch.NewDisposeScope();
        var torchResult = torch.nn.functional.softmax(Tensor, 0).data<float>().ToArray();
        return Messages(tp, scalar, CompareValues("TorchSharp", logits, torchResult, 1e-5, 1e-12));
    }
}

/// <summary>Stable log-softmax of one row: Logits' kernel against a TensorPrimitives composition, TorchSharp and a scalar loop.</summary>
/// <remarks>TensorPrimitives has no log-softmax; the peer composes its stable form (Max, Subtract, Exp, Sum, Log, Subtract).</remarks>
[Case("log-softmax")]
public class LogSoftmaxBenchmarks : SamplingCase, ICheckedCase
{
    private float[] _scratch = [];

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' stable log-softmax, in place after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits LogSoftmax (copy in + in place)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        Input.AsSpan().CopyTo(Batch.AsSpan()); // a plain copy: the kernel checks the row itself
        Batch.Kernels.LogSoftmax(Batch, Batch);
    }

    /// <summary>Log-softmax composed of TensorPrimitives calls.</summary>
    [Benchmark(Description = "TensorPrimitives composed log-softmax")]
    [Peer(Peer.TensorPrimitives)]
    public void TensorPrimitivesLogSoftmax()
    {
        Next();
        float max = TensorPrimitives.Max(Input);
        TensorPrimitives.Subtract(Input, max, Destination);
        TensorPrimitives.Exp(Destination, _scratch);
        float shift = MathF.Log(TensorPrimitives.Sum(_scratch));
        TensorPrimitives.Subtract(Destination, shift, Destination);
    }

    /// <summary>TorchSharp's log_softmax on CPU libtorch.</summary>
    [Benchmark(Description = "TorchSharp log_softmax")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        torch.nn.functional.log_softmax(Tensor, 0);
    }

    /// <summary>A scalar stable log-softmax.</summary>
    [Benchmark(Description = "scalar stable log-softmax")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.LogSoftmax(Input, Destination);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        Logits();
        var logits = Batch.ToArray();
        TensorPrimitivesLogSoftmax();
        string? tp = CompareValues("TensorPrimitives", logits, Destination, 1e-5, 1e-4);
        Scalar();
        string? scalar = CompareValues("scalar", logits, Destination, 1e-5, 1e-4);
        using var scope = torch.NewDisposeScope();
        var torchResult = torch.nn.functional.log_softmax(Tensor, 0).data<float>().ToArray();
        return Messages(tp, scalar, CompareValues("TorchSharp", logits, torchResult, 1e-5, 1e-4));
    }

    /// <inheritdoc/>
    protected override void SetupCase() => _scratch = new float[Vocab];
}

using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Processing;
using Logits.TorchSharp;
using Logits.TorchSharp.Tensors;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>
/// The default chain (top-k 40 → top-p 0.95 → min-p 0.05 → temperature 0.8 → multinomial) on the torch backend, CPU
/// libtorch: <see cref="LogitPipeline.Sample(Logits.Tensors.LogitBatch, IReadOnlyList{SamplingContext}, Span{int})"/> on
/// a <see cref="TorchLogitBatch"/> against the same steps written directly with torch ops over the whole vocabulary
/// (<see cref="TorchComposite"/>).
/// </summary>
/// <remarks>
/// Both sides run on one intra-op thread (set through <see cref="TorchRuntime.SetIntraOpThreads"/>). Logits' side
/// includes the copy that restores its in-place input (a torch <c>copy_</c>) and one device-to-host transfer, the
/// selected token; the composite reads its token with <c>item</c>.
/// </remarks>
[Case("torch default chain")]
public class TorchChainBenchmarks : SamplingCase, ICheckedCase
{
    private TorchLogitBatch _batch = null!;
    private torch.Tensor[] _inputs = [];
    private LogitPipeline _pipeline = null!;
    private SamplingContext[] _contexts = [];
    private readonly int[] _tokens = new int[1];

    /// <inheritdoc/>
    [Params(32000, 128256)]
    public override int Vocab { get; set; }

    /// <summary>Logits' pipeline on a torch batch, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline on a TorchLogitBatch (copy in + sample)")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        Next();
        _batch.Values.copy_(_inputs[InputIndex]);
        _pipeline.Sample(_batch, _contexts, _tokens);
        return _tokens[0];
    }

    /// <summary>The same steps with torch ops over the whole vocabulary.</summary>
    [Benchmark(Description = "TorchSharp topk mask + sort/cumsum top-p + min-p + div + softmax + multinomial")]
    [Peer(Peer.TorchSharp)]
    public long Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        return TorchComposite.Sample(_inputs[InputIndex], DefaultChainBenchmarks.TopK, DefaultChainBenchmarks.TopP, DefaultChainBenchmarks.MinP, DefaultChainBenchmarks.Temperature).item<long>();
    }

    /// <inheritdoc/>
    /// <remarks>Both tokens must be in the set Logits keeps (its pipeline's <c>Process</c> on the same input).</remarks>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        _pipeline.Reset();
        int token = Logits();
        _batch.Values.copy_(_inputs[InputIndex]);
        _pipeline.Process(_batch, _contexts);
        var kept = Kept(_batch.ToArray());
        var messages = new List<string?>
        {
            Array.IndexOf(kept, token) >= 0 ? null : $"Logits (torch): token {token} is not in its kept set",
        };
        for (int draw = 0; draw < 8; draw++)
        {
            int torchToken = (int)Torch();
            messages.Add(Array.IndexOf(kept, torchToken) >= 0 ? null : $"TorchSharp composite: token {torchToken} is not in Logits' kept set of {kept.Length}");
        }

        return Messages(messages.ToArray());
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        TorchRuntime.SetIntraOpThreads(1);
        _inputs = new torch.Tensor[InputCount];
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i] = TensorAt(i).reshape(1, Vocab).contiguous();
        }

        _batch = TorchLogitBatch.FromTensor(_inputs[0]);
        _pipeline = LogitPipeline.CreateBuilder()
            .TopK(DefaultChainBenchmarks.TopK)
            .TopP(DefaultChainBenchmarks.TopP)
            .MinP(DefaultChainBenchmarks.MinP)
            .Temperature(DefaultChainBenchmarks.Temperature)
            .Multinomial(SamplingSeed);
        _contexts = SamplingContext.ForRows(1);
    }

    /// <inheritdoc/>
    protected override void CleanupCase()
    {
        _batch.Dispose();
        foreach (var input in _inputs)
        {
            input.Dispose();
        }
    }
}

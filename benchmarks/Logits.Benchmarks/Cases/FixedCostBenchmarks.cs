using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>The fixed cost of one sampling call: temperature 1 then greedy on a 32-token row.</summary>
/// <remarks>
/// At V = 32 the row is two cache lines, so what is measured is the per-call and per-step overhead (argument checks,
/// the entry check, buffer rental, dispatch), not the work on the row. Logits runs
/// <c>Temperature(1).Greedy()</c> (its pipeline skips the argmax-invariant temperature under a greedy selector);
/// llama.cpp runs a chain of its temperature and greedy samplers; TorchSharp does <c>argmax</c>; the scalar peer a
/// plain loop.
/// </remarks>
[Case("fixed cost (T 1, greedy)")]
public class FixedCostBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private LogitPipeline _pipeline = null!;

    /// <inheritdoc/>
    [Params(32)]
    public override int Vocab { get; set; }

    /// <summary>Logits' pipeline, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits Temperature(1).Greedy() (copy in + sample)")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        Next();
        CopyIn();
        _pipeline.Sample(Batch, Contexts, Tokens);
        return Tokens[0];
    }

    /// <summary>TorchSharp argmax.</summary>
    [Benchmark(Description = "TorchSharp argmax")]
    [Peer(Peer.TorchSharp)]
    public long Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        return Tensor.argmax().item<long>();
    }

    /// <summary>A scalar argmax loop (first maximum).</summary>
    [Benchmark(Description = "scalar argmax")]
    [Peer(Peer.Scalar)]
    public int Scalar()
    {
        Next();
        var x = Input;
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        int token = Logits();
        string? Same(string peer, long other) => other == token ? null : $"{peer}: token {other}, Logits {token}";
        return Messages(Same("scalar", Scalar()), Same("llama.cpp", LlamaCpp()), Same("TorchSharp", Torch()));
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        base.SetupCase();
        _pipeline = LogitPipeline.CreateBuilder().Temperature(1f).Greedy();
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddTemperature(1f);
        chain.AddGreedySampler();
        return chain;
    }
}

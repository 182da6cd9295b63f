using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>Temperature 1.5 then top-p 0.9 on one row, in Hugging Face's order (the warper before the cut).</summary>
/// <remarks>
/// A temperature above 1 flattens the row before the cut, so the nucleus is larger than top-p alone keeps: the case
/// that finds a mass cut's cost on wide nuclei. Logits runs a pipeline of the two processors; llama.cpp a chain of its temperature
/// and top-p samplers; TorchSharp divides and does the sort-based top-p; the scalar peer scales, then sorts.
/// </remarks>
[Case("T 1.5 then top-p 0.9")]
public class HfOrderBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private const float Temperature = 1.5f;
    private const double P = 0.9;
    private readonly LogitPipeline _pipeline = new([new TemperatureProcessor(Temperature), new TopPProcessor(P)], new GreedySelector());
    private float[] _scaled = [];
    private float[] _sortScratch = [];

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' pipeline of the temperature and top-p processors (one entry check), after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline [Temperature, TopP] (copy in + process)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        CopyIn();
        _pipeline.Process(Batch, Contexts);
    }

    /// <summary>TorchSharp: divide, then sort + cumsum.</summary>
    [Benchmark(Description = "TorchSharp div + sort + cumsum")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchCore();
    }

    /// <summary>Scalar: scale, then Array.Sort and a float64 prefix sum.</summary>
    [Benchmark(Description = "scalar scale + Array.Sort top-p")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        var x = Input;
        for (int i = 0; i < x.Length; i++)
        {
            _scaled[i] = x[i] / Temperature;
        }

        ScalarSampling.TopP(_scaled, P, _sortScratch, Destination);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        Logits();
        var logits = Kept(Batch.AsSpan());
        Scalar();
        string? scalar = CompareKept("scalar", logits, Kept(Destination));
        LlamaCpp();
        string? llama = CompareKept("llama.cpp", logits, Llama.KeptIds());
        using var scope = torch.NewDisposeScope();
        return Messages(scalar, llama, CompareKept("TorchSharp", logits, Kept(TorchCore().data<float>().ToArray())));
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        base.SetupCase();
        _scaled = new float[Vocab];
        _sortScratch = new float[Vocab];
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddTemperature(Temperature);
        chain.AddTopP((float)P, 1);
        return chain;
    }

    private torch.Tensor TorchCore()
    {
        using var temperature = Temperature.ToScalar();
        return TorchComposite.TopP(Tensor.div(temperature), P);
    }
}

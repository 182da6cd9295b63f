using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Randomness;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>Plain sampling of one row: softmax + one draw.</summary>
/// <remarks>
/// Logits runs a pipeline with no processors and the multinomial selector (one checked max pass, then the inverse-CDF
/// draw without materialising the softmax); llama.cpp runs its <c>dist</c> sampler; TorchSharp does softmax +
/// <c>multinomial</c>; the scalar peer does max, a float64 sum of exponentials and an inverse-CDF scan.
/// </remarks>
[Case("plain sampling")]
public class SamplingBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private LogitPipeline _pipeline = null!;
    private Xoshiro256StarStar _uniforms = null!;

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' pipeline (no processors, multinomial selector), after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline multinomial (copy in + sample)")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        Next();
        CopyIn();
        _pipeline.Sample(Batch, Contexts, Tokens);
        return Tokens[0];
    }

    /// <summary>TorchSharp softmax + multinomial.</summary>
    [Benchmark(Description = "TorchSharp softmax + multinomial")]
    [Peer(Peer.TorchSharp)]
    public long Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        return torch.multinomial(torch.nn.functional.softmax(Tensor, 0), 1).item<long>();
    }

    /// <summary>Scalar inverse CDF.</summary>
    [Benchmark(Description = "scalar softmax + inverse CDF")]
    [Peer(Peer.Scalar)]
    public int Scalar()
    {
        Next();
        return ScalarSampling.Sample(Input, _uniforms.NextDouble());
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The scalar peer must draw Logits' token from the same uniform. llama.cpp and TorchSharp draw from their own
    /// generators, so their draws are checked statistically: over 400 draws, the share that lands on the
    /// most probable tokens that make up half the mass must be within 5 standard errors of Logits' probability of them.
    /// </remarks>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        _pipeline.Reset();
        int token = Logits();
        double u = Xoshiro256StarStar.ForRow(SamplingSeed, 0).NextDouble();
        int scalarToken = ScalarSampling.Sample(Input, u);
        string? scalar = scalarToken == token ? null : $"scalar: token {scalarToken} from Logits' uniform, Logits {token}";

        // The most probable tokens up to half the mass (the peaks of a peaked row): a set every distribution has.
        var probabilities = new float[Vocab];
        ScalarSampling.Softmax(Input, probabilities);
        var order = Enumerable.Range(0, Vocab).OrderByDescending(i => probabilities[i]).ToArray();
        var peaks = new HashSet<int>();
        double peakMass = 0;
        foreach (int i in order)
        {
            if (peakMass >= 0.5)
            {
                break;
            }

            peaks.Add(i);
            peakMass += probabilities[i];
        }

        const int Draws = 400;
        double tolerance = 5 * Math.Sqrt(peakMass * (1 - peakMass) / Draws) + 1e-3;
        int llamaHits = 0;
        int torchHits = 0;
        for (int d = 0; d < Draws; d++)
        {
            llamaHits += peaks.Contains(LlamaCpp()) ? 1 : 0;
            torchHits += peaks.Contains((int)Torch()) ? 1 : 0;
        }

        string? Share(string peer, int hits) => Math.Abs(((double)hits / Draws) - peakMass) <= tolerance
            ? null
            : $"{peer}: {hits} of {Draws} draws on the most probable tokens, expected {peakMass * Draws:F0} ± {tolerance * Draws:F0}";
        return Messages(scalar, Share("llama.cpp", llamaHits), Share("TorchSharp", torchHits));
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        base.SetupCase();
        _pipeline = LogitPipeline.CreateBuilder().Multinomial(SamplingSeed);
        _uniforms = new Xoshiro256StarStar(SamplingSeed);
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddDistributionSampler((uint)SamplingSeed);
        return chain;
    }
}

/// <summary>
/// The default chain of llama.cpp's common sampler on one row: top-k 40 → top-p 0.95 → min-p 0.05 →
/// temperature 0.8 → sample.
/// </summary>
/// <remarks>
/// Logits runs <see cref="SamplingPresets.LlamaCpp"/> with default options (dense row, masks, multinomial). llama.cpp
/// runs the same chain on its candidate array. TorchSharp does the usual tensor form on the top-40 candidates
/// (<c>topk</c>, softmax, cumsum, masks, temperature, softmax, <c>multinomial</c>). The scalar peer keeps a heap of
/// 40, sorts them and runs every later stage on that list.
/// </remarks>
[Case("default chain")]
public class DefaultChainBenchmarks : LlamaSamplingCase, ICheckedCase
{
    /// <summary>The chain's parameters (llama.cpp's defaults).</summary>
    internal const int TopK = 40;

    /// <summary>Top-p of the chain.</summary>
    internal const double TopP = 0.95;

    /// <summary>Min-p of the chain.</summary>
    internal const double MinP = 0.05;

    /// <summary>Temperature of the chain.</summary>
    internal const float Temperature = 0.8f;

    private LogitPipeline _pipeline = null!;
    private Xoshiro256StarStar _uniforms = null!;
    private ScalarSampling.ChainScratch _scratch = null!;

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' llama.cpp preset, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits SamplingPresets.LlamaCpp (copy in + sample)")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        Next();
        CopyIn();
        _pipeline.Sample(Batch, Contexts, Tokens);
        return Tokens[0];
    }

    /// <summary>TorchSharp on the top-40 candidates.</summary>
    [Benchmark(Description = "TorchSharp topk + softmax + cumsum + multinomial")]
    [Peer(Peer.TorchSharp)]
    public long Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        return TorchChain.Sample(Tensor, TopK, TopP, MinP, Temperature).item<long>();
    }

    /// <summary>Scalar heap + candidate list.</summary>
    [Benchmark(Description = "scalar heap + candidates")]
    [Peer(Peer.Scalar)]
    public int Scalar()
    {
        Next();
        return ScalarSampling.DefaultChain(Input, TopK, TopP, MinP, Temperature, _uniforms.NextDouble(), _scratch);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The scalar peer must draw Logits' token from the same uniform; llama.cpp's chain without its final draw must
    /// keep Logits' kept set with the same tempered logits; TorchSharp's token must be one Logits keeps.
    /// </remarks>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        _pipeline.Reset();
        int token = Logits();
        double u = Xoshiro256StarStar.ForRow(SamplingSeed, 0).NextDouble();
        int scalarToken = ScalarSampling.DefaultChain(Input, TopK, TopP, MinP, Temperature, u, _scratch);
        string? scalar = scalarToken == token ? null : $"scalar: token {scalarToken} from Logits' uniform, Logits {token}";

        CopyIn();
        _pipeline.Process(Batch, Contexts);
        var processed = Batch.AsSpan();
        var kept = Kept(processed);
        using var withoutDraw = LlamaCandidates.Chain();
        withoutDraw.AddTopK(TopK);
        withoutDraw.AddTopP((float)TopP, 1);
        withoutDraw.AddMinP((float)MinP, 1);
        withoutDraw.AddTemperature(Temperature);
        Llama.Fill(Input);
        Llama.Apply(withoutDraw);
        string? llama = CompareKept("llama.cpp", kept, Llama.KeptIds());
        if (llama is null)
        {
            var llamaLogits = Llama.KeptLogits();
            foreach (int id in kept)
            {
                llama ??= CompareValues("llama.cpp tempered logit", [processed[id]], [llamaLogits[id]], 1e-5, 1e-6);
            }
        }

        int torchToken = (int)Torch();
        string? torchMessage = Array.IndexOf(kept, torchToken) >= 0 ? null : $"TorchSharp: token {torchToken} is not in Logits' kept set";
        int llamaToken = LlamaCpp();
        string? llamaDraw = Array.IndexOf(kept, llamaToken) >= 0 ? null : $"llama.cpp: token {llamaToken} is not in Logits' kept set";
        return Messages(scalar, llama, torchMessage, llamaDraw);
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        base.SetupCase();
        _pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = SamplingSeed });
        _uniforms = new Xoshiro256StarStar(SamplingSeed);
        _scratch = new ScalarSampling.ChainScratch(TopK);
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddTopK(TopK);
        chain.AddTopP((float)TopP, 1);
        chain.AddMinP((float)MinP, 1);
        chain.AddTemperature(Temperature);
        chain.AddDistributionSampler((uint)SamplingSeed);
        return chain;
    }
}

using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Selection;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>Top-k 40 on one row (ties at the boundary kept).</summary>
/// <remarks>
/// Logits masks the row densely (<see cref="TopKProcessor"/>); TorchSharp does Hugging Face's <c>TopKLogitsWarper</c>
/// (<c>topk</c>, compare with the k-th value, <c>masked_fill</c>); llama.cpp partially sorts its candidates and keeps
/// the first 40; the scalar peer keeps a bounded heap of 40 and masks.
/// </remarks>
[Case("top-k 40")]
public class TopKBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private const int K = 40;
    private readonly TopKProcessor _topK = new(K);
    private readonly LogitPipeline _topKPipeline;

    /// <summary>Creates the case: the processor alone in a pipeline, as an application runs it (the pipeline call keeps
    /// what the copy in learned about the row, and the kernels' row knowledge).</summary>
    public TopKBenchmarks() => _topKPipeline = new LogitPipeline(new ILogitProcessor[] { _topK }, GreedySelector.Instance);
    private readonly float[] _heap = new float[K];

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' top-k processor in a pipeline, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline [TopKProcessor] (copy in + process)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        CopyIn();
        _topKPipeline.Process(Batch, Contexts);
    }

    /// <summary>TorchSharp, Hugging Face's form.</summary>
    [Benchmark(Description = "TorchSharp topk + masked_fill")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchCore();
    }

    /// <summary>A scalar heap and mask.</summary>
    [Benchmark(Description = "scalar heap top-k")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.TopK(Input, K, _heap, Destination);
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
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddTopK(K);
        return chain;
    }

    private torch.Tensor TorchCore()
    {
        using var removed = float.NegativeInfinity.ToScalar();
        var (values, _) = Tensor.topk(K);
        return Tensor.masked_fill(Tensor.lt(values[K - 1]), removed);
    }
}

/// <summary>Top-p 0.9 alone on one row (inclusive rule, float64 prefix).</summary>
/// <remarks>
/// TorchSharp does the usual sort-based form (sort descending, softmax, cumsum, remove tokens whose preceding mass
/// already reaches p, scatter the mask back, <c>masked_fill</c>); the scalar peer sorts a copy with
/// <c>Array.Sort</c>; llama.cpp runs its top-p sampler on the full candidate array.
/// </remarks>
[Case("top-p 0.9")]
public class TopPBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private const double P = 0.9;
    private readonly TopPProcessor _topP = new(P);
    private readonly LogitPipeline _topPPipeline;

    /// <summary>Creates the case: the processor alone in a pipeline, as an application runs it (the pipeline call keeps
    /// what the copy in learned about the row, and the kernels' row knowledge).</summary>
    public TopPBenchmarks() => _topPPipeline = new LogitPipeline(new ILogitProcessor[] { _topP }, GreedySelector.Instance);
    private float[] _sortScratch = [];

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' top-p processor in a pipeline, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline [TopPProcessor] (copy in + process)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        CopyIn();
        _topPPipeline.Process(Batch, Contexts);
    }

    /// <summary>TorchSharp, sort + cumsum.</summary>
    [Benchmark(Description = "TorchSharp sort + cumsum")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchCore();
    }

    /// <summary>Scalar: Array.Sort and a float64 prefix sum.</summary>
    [Benchmark(Description = "scalar Array.Sort top-p")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.TopP(Input, P, _sortScratch, Destination);
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
        _sortScratch = new float[Vocab];
    }

    /// <inheritdoc/>
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddTopP((float)P, 1);
        return chain;
    }

    private torch.Tensor TorchCore() => TorchComposite.TopP(Tensor, P);
}

/// <summary>Min-p 0.05 alone on one row.</summary>
/// <remarks>
/// Logits and the scalar peer compare logits with <c>max + ln 0.05</c>; TorchSharp does Hugging Face's
/// <c>MinPLogitsWarper</c> (softmax, max probability, compare, <c>masked_fill</c>); llama.cpp runs its min-p sampler.
/// </remarks>
[Case("min-p 0.05")]
public class MinPBenchmarks : LlamaSamplingCase, ICheckedCase
{
    private const double MinP = 0.05;
    private readonly MinPProcessor _minP = new(MinP);
    private readonly LogitPipeline _minPPipeline;

    /// <summary>Creates the case: the processor alone in a pipeline, as an application runs it (the pipeline call keeps
    /// what the copy in learned about the row, and the kernels' row knowledge).</summary>
    public MinPBenchmarks() => _minPPipeline = new LogitPipeline(new ILogitProcessor[] { _minP }, GreedySelector.Instance);

    /// <inheritdoc/>
    [Params(512, 4096, 32000, 128256, 262144)]
    public override int Vocab { get; set; }

    /// <summary>Logits' min-p processor in a pipeline, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits pipeline [MinPProcessor] (copy in + process)")]
    [Peer(Peer.Logits)]
    public void Logits()
    {
        Next();
        CopyIn();
        _minPPipeline.Process(Batch, Contexts);
    }

    /// <summary>TorchSharp, Hugging Face's form.</summary>
    [Benchmark(Description = "TorchSharp softmax + compare + masked_fill")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchCore();
    }

    /// <summary>Scalar: max and one masking pass.</summary>
    [Benchmark(Description = "scalar min-p")]
    [Peer(Peer.Scalar)]
    public void Scalar()
    {
        Next();
        ScalarSampling.MinP(Input, MinP, Destination);
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
    protected override SafeLLamaSamplerChainHandle CreateChain()
    {
        var chain = LlamaCandidates.Chain();
        chain.AddMinP((float)MinP, 1);
        return chain;
    }

    private torch.Tensor TorchCore()
    {
        var probabilities = torch.nn.functional.softmax(Tensor, 0);
        using var minP = MinP.ToScalar();
        using var removed = float.NegativeInfinity.ToScalar();
        var remove = probabilities.lt(probabilities.max().mul(minP));
        return Tensor.masked_fill(remove, removed);
    }
}

using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;
using Logits.Benchmarks.Peers;
using Logits.Pipelines;
using Logits.Randomness;
using TorchSharp;

namespace Logits.Benchmarks.Cases;

/// <summary>The default chain on a batch of 64 rows: Logits on all cores, llama.cpp row by row, TorchSharp batched.</summary>
/// <remarks>
/// Logits runs a large batch's chain row block by row block, the blocks in parallel when
/// <see cref="Environment.ProcessorCount"/> &gt; 1 (<c>LOGITS_DISABLE_ROW_BLOCKS=1</c>: step by step, each kernel's rows in
/// parallel, as before row blocks); it has no option to limit the degree of parallelism, so the
/// one-core time comes from <see cref="BatchChainOneCoreBenchmarks"/>, the same work in a process started with
/// <c>DOTNET_PROCESSOR_COUNT=1</c>. llama.cpp has no batched sampler: its peer fills and applies the chain row by row.
/// </remarks>
[Case(BatchChainCase.Name, Rows = BatchChainCase.BatchRows)]
public class BatchChainBenchmarks : BatchChainCase, ICheckedCase
{
    /// <summary>llama.cpp's chain, row by row (fill + apply).</summary>
    [Benchmark(Description = "llama.cpp (fill + apply) × 64 rows")]
    [Peer(Peer.LlamaCpp)]
    public int LlamaCpp()
    {
        Next();
        int sum = 0;
        for (int r = 0; r < BatchRows; r++)
        {
            Llama.Fill(Input.AsSpan(r * Vocab, Vocab));
            sum += Llama.Apply(LlamaChain);
        }

        return sum;
    }

    /// <summary>llama.cpp's fills alone.</summary>
    [Benchmark(Description = "llama.cpp fill only × 64 rows")]
    [Peer(Peer.LlamaCppFill)]
    public void LlamaFill()
    {
        Next();
        for (int r = 0; r < BatchRows; r++)
        {
            Llama.Fill(Input.AsSpan(r * Vocab, Vocab));
        }
    }

    /// <summary>TorchSharp's chain on the [64, V] tensor.</summary>
    [Benchmark(Description = "TorchSharp batched topk chain")]
    [Peer(Peer.TorchSharp)]
    public void Torch()
    {
        Next();
        using var scope = torch.NewDisposeScope();
        TorchChain.Sample(Tensor, DefaultChainBenchmarks.TopK, DefaultChainBenchmarks.TopP, DefaultChainBenchmarks.MinP, DefaultChainBenchmarks.Temperature);
    }

    /// <summary>Scalar chain, row by row.</summary>
    [Benchmark(Description = "scalar heap + candidates × 64 rows")]
    [Peer(Peer.Scalar)]
    public int Scalar()
    {
        Next();
        int sum = 0;
        for (int r = 0; r < BatchRows; r++)
        {
            sum += ScalarSampling.DefaultChain(Input.AsSpan(r * Vocab, Vocab), DefaultChainBenchmarks.TopK, DefaultChainBenchmarks.TopP, DefaultChainBenchmarks.MinP, DefaultChainBenchmarks.Temperature, Uniforms[r].NextDouble(), Scratch);
        }

        return sum;
    }

    /// <inheritdoc/>
    /// <remarks>Every row's token must equal the scalar chain's token drawn from that row's uniform.</remarks>
    public IReadOnlyList<string> CheckPeersAgree()
    {
        using var hold = HoldInput();
        Pipeline.Reset();
        Logits();
        var messages = new List<string>();
        for (int r = 0; r < BatchRows; r++)
        {
            double u = Xoshiro256StarStar.ForRow(SamplingSeed, r).NextDouble();
            int expected = ScalarSampling.DefaultChain(Input.AsSpan(r * Vocab, Vocab), DefaultChainBenchmarks.TopK, DefaultChainBenchmarks.TopP, DefaultChainBenchmarks.MinP, DefaultChainBenchmarks.Temperature, u, Scratch);
            if (expected != Tokens[r])
            {
                messages.Add($"scalar: row {r} token {expected} from Logits' uniform, Logits {Tokens[r]}");
            }
        }

        return messages;
    }
}

/// <summary>
/// <see cref="BatchChainBenchmarks"/>' Logits method in a process limited to one core (<c>DOTNET_PROCESSOR_COUNT=1</c>,
/// so <see cref="Environment.ProcessorCount"/> is 1 and Logits runs the rows serially).
/// </summary>
/// <remarks>The full run gets that process from <see cref="OneCoreConfig"/>; the quick and dry modes start it themselves.</remarks>
[Case(BatchChainCase.Name, Rows = BatchChainCase.BatchRows, OneCore = true)]
[Config(typeof(OneCoreConfig))]
public class BatchChainOneCoreBenchmarks : BatchChainCase
{
    /// <summary>A BenchmarkDotNet job whose process sees one processor.</summary>
    public sealed class OneCoreConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public OneCoreConfig() => AddJob(Job.Default.WithEnvironmentVariables(new EnvironmentVariable(OneCoreVariable, "1")).WithId("1 core"));
    }
}

/// <summary>Shared state of the batch-64 classes.</summary>
public abstract class BatchChainCase : SamplingCase
{
    /// <summary>The case's name in the ratio table.</summary>
    public const string Name = "batch 64 default chain";

    /// <summary>Rows of the batch.</summary>
    public const int BatchRows = 64;

    /// <summary>The environment variable that sets the runtime's processor count.</summary>
    public const string OneCoreVariable = "DOTNET_PROCESSOR_COUNT";

    /// <inheritdoc/>
    [Params(128256)]
    public override int Vocab { get; set; }

    /// <summary>Logits' pipeline.</summary>
    protected LogitPipeline Pipeline { get; private set; } = null!;

    /// <summary>llama.cpp's chain.</summary>
    protected SafeLLamaSamplerChainHandle LlamaChain { get; private set; } = null!;

    /// <summary>Uniform streams of the scalar peer, one per row.</summary>
    protected Xoshiro256StarStar[] Uniforms { get; private set; } = [];

    /// <summary>Scratch of the scalar peer.</summary>
    protected ScalarSampling.ChainScratch Scratch { get; private set; } = null!;

    /// <inheritdoc/>
    protected override int Rows => BatchRows;

    /// <summary>Logits' llama.cpp preset on the whole batch, after the copy in.</summary>
    [Benchmark(Baseline = true, Description = "Logits SamplingPresets.LlamaCpp, 64 rows (copy in + sample)")]
    [Peer(Peer.Logits)]
    public int Logits()
    {
        Next();
        CopyIn();
        Pipeline.Sample(Batch, Contexts, Tokens);
        return Tokens[0];
    }

    /// <inheritdoc/>
    protected override void SetupCase()
    {
        Pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = SamplingSeed });
        var chain = LlamaCandidates.Chain();
        chain.AddTopK(DefaultChainBenchmarks.TopK);
        chain.AddTopP((float)DefaultChainBenchmarks.TopP, 1);
        chain.AddMinP((float)DefaultChainBenchmarks.MinP, 1);
        chain.AddTemperature(DefaultChainBenchmarks.Temperature);
        chain.AddDistributionSampler((uint)SamplingSeed);
        LlamaChain = chain;
        Uniforms = new Xoshiro256StarStar[BatchRows];
        for (int r = 0; r < BatchRows; r++)
        {
            Uniforms[r] = Xoshiro256StarStar.ForRow(SamplingSeed, r);
        }

        Scratch = new ScalarSampling.ChainScratch(DefaultChainBenchmarks.TopK);
    }

    /// <inheritdoc/>
    protected override void CleanupCase() => LlamaChain.Dispose();
}

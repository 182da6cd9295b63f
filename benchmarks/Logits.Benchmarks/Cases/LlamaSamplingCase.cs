using BenchmarkDotNet.Attributes;
using LLama.Native;
using Logits.Benchmarks.Infrastructure;

namespace Logits.Benchmarks.Cases;

/// <summary>A sampling case with a llama.cpp peer: the chain built by <see cref="CreateChain"/>, and the fill alone.</summary>
public abstract class LlamaSamplingCase : SamplingCase
{
    /// <summary>llama.cpp's chain for this case.</summary>
    protected SafeLLamaSamplerChainHandle Chain { get; private set; } = null!;

    /// <summary>llama.cpp: fill the candidate array from the logits, then apply the chain.</summary>
    [Benchmark(Description = "llama.cpp (fill + apply)")]
    [Peer(Peer.LlamaCpp)]
    public int LlamaCpp()
    {
        Next();
        Llama.Fill(Input);
        return Llama.Apply(Chain);
    }

    /// <summary>llama.cpp's candidate fill alone (subtracted to give its time net of the fill).</summary>
    [Benchmark(Description = "llama.cpp fill only")]
    [Peer(Peer.LlamaCppFill)]
    public void LlamaFill()
    {
        Next();
        Llama.Fill(Input);
    }

    /// <summary>Builds llama.cpp's chain for this case.</summary>
    protected abstract SafeLLamaSamplerChainHandle CreateChain();

    /// <inheritdoc/>
    protected override void SetupCase() => Chain = CreateChain();

    /// <inheritdoc/>
    protected override void CleanupCase() => Chain.Dispose();
}

namespace Logits.Benchmarks.Infrastructure;

/// <summary>Who a benchmark method measures; the ratio table divides Logits' time by each peer's.</summary>
public enum Peer
{
    /// <summary>Logits' CPU path, including the copy that restores its in-place input.</summary>
    Logits,

    /// <summary>Logits' CPU path in a process limited to one core (<c>DOTNET_PROCESSOR_COUNT=1</c>).</summary>
    LogitsOneCore,

    /// <summary>One copy of the input: the memory-bound floor every in-place operation pays.</summary>
    RowCopy,

    /// <summary>llama.cpp's native sampler chain, including the fill of its candidate array.</summary>
    LlamaCpp,

    /// <summary>LLamaSharp's <c>DefaultSamplingPipeline</c> (llama.cpp's chain through <c>llama_sampler_sample</c>), inside generation.</summary>
    LlamaSharpPipeline,

    /// <summary>Only the fill of llama.cpp's candidate array (subtracted to report llama.cpp net of the fill).</summary>
    LlamaCppFill,

    /// <summary>TorchSharp on CPU libtorch doing the usual tensor math.</summary>
    TorchSharp,

    /// <summary><c>System.Numerics.Tensors.TensorPrimitives</c>, where it has the operation.</summary>
    TensorPrimitives,

    /// <summary>A plain scalar C# loop (and <c>Array.Sort</c> where the usual algorithm sorts).</summary>
    Scalar,
}

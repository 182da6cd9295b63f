
namespace Logits.LLamaSharp.Gguf;

/// <summary>The shape of a llama-architecture decoder, as llama.cpp reads it from the <c>llama.*</c> GGUF keys.</summary>
public sealed class LlamaHyperparameters
{
    /// <summary>Creates and validates the hyperparameters.</summary>
    /// <param name="embeddingLength">The model width <c>d</c>, at least 1 and a multiple of <paramref name="headCount"/>.</param>
    /// <param name="blockCount">The number of decoder blocks, at least 1.</param>
    /// <param name="feedForwardLength">The SwiGLU hidden width, at least 1.</param>
    /// <param name="headCount">The number of query heads, at least 1; the head size <c>d / headCount</c> must be even (rotary pairs).</param>
    /// <param name="headCountKv">The number of key/value heads (grouped-query attention), dividing <paramref name="headCount"/>; default: <paramref name="headCount"/>.</param>
    /// <param name="contextLength">The training context length, at least 1 (default 2048).</param>
    /// <param name="rmsNormEpsilon">The RMSNorm epsilon, positive (default 1e-5).</param>
    /// <param name="ropeFrequencyBase">The rotary frequency base, positive (default 10000).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public LlamaHyperparameters(
        int embeddingLength,
        int blockCount,
        int feedForwardLength,
        int headCount,
        int? headCountKv = null,
        int contextLength = 2048,
        float rmsNormEpsilon = 1e-5f,
        float ropeFrequencyBase = 10000f)
    {
        EmbeddingLength = Positive(embeddingLength, nameof(embeddingLength));
        BlockCount = Positive(blockCount, nameof(blockCount));
        FeedForwardLength = Positive(feedForwardLength, nameof(feedForwardLength));
        HeadCount = Positive(headCount, nameof(headCount));
        HeadCountKv = Positive(headCountKv ?? headCount, nameof(headCountKv));
        ContextLength = Positive(contextLength, nameof(contextLength));
        if (embeddingLength % headCount != 0 || (embeddingLength / headCount) % 2 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(headCount), headCount, $"The embedding length {embeddingLength} must split into {headCount} heads of an even size.");
        }

        if (headCount % HeadCountKv != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(headCountKv), HeadCountKv, $"The number of key/value heads must divide the {headCount} query heads.");
        }

        RmsNormEpsilon = PositiveFinite(rmsNormEpsilon, nameof(rmsNormEpsilon), "The RMSNorm epsilon");
        RopeFrequencyBase = PositiveFinite(ropeFrequencyBase, nameof(ropeFrequencyBase), "The rotary frequency base");
    }

    /// <summary>The model width <c>d</c> (<c>llama.embedding_length</c>).</summary>
    public int EmbeddingLength { get; }

    /// <summary>The number of decoder blocks (<c>llama.block_count</c>).</summary>
    public int BlockCount { get; }

    /// <summary>The SwiGLU hidden width (<c>llama.feed_forward_length</c>).</summary>
    public int FeedForwardLength { get; }

    /// <summary>The number of query heads (<c>llama.attention.head_count</c>).</summary>
    public int HeadCount { get; }

    /// <summary>The number of key/value heads (<c>llama.attention.head_count_kv</c>).</summary>
    public int HeadCountKv { get; }

    /// <summary>The training context length (<c>llama.context_length</c>).</summary>
    public int ContextLength { get; }

    /// <summary>The RMSNorm epsilon (<c>llama.attention.layer_norm_rms_epsilon</c>).</summary>
    public float RmsNormEpsilon { get; }

    /// <summary>The rotary frequency base (<c>llama.rope.freq_base</c>).</summary>
    public float RopeFrequencyBase { get; }

    /// <summary>The size of one attention head: <c>d / HeadCount</c>.</summary>
    public int HeadSize => EmbeddingLength / HeadCount;

    /// <summary>The width of the key and value projections: <c>HeadCountKv · HeadSize</c>.</summary>
    public int KeyValueLength => HeadCountKv * HeadSize;

    private static int Positive(int value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, "The value must be at least 1.");

    private static float PositiveFinite(float value, string name, string what) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{what} must be positive and finite.");
}

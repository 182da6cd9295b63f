
namespace Logits.LLamaSharp.Gguf;

/// <summary>The weights of one llama decoder block, row-major with PyTorch's <c>[out, in]</c> layout for projections.</summary>
/// <remarks>
/// A block computes <c>h = x + Wo·attention(RMSNorm(x)·g_attn)</c>, then <c>h + Wdown·(silu(Wgate·n) ⊙ (Wup·n))</c> with
/// <c>n = RMSNorm(h)·g_ffn</c>. Query and key rows are in llama.cpp's rotary order: within each head, dimensions
/// <c>2i</c> and <c>2i + 1</c> form a rotated pair (checkpoints converted from Hugging Face have their rows permuted to
/// this order). Arrays are held by reference and written as they are when the model is saved.
/// </remarks>
public sealed class LlamaLayerWeights
{
    /// <summary>Creates zero-filled weights for <paramref name="hyperparameters"/>, norms set to 1.</summary>
    /// <param name="hyperparameters">The model shape.</param>
    public LlamaLayerWeights(LlamaHyperparameters hyperparameters)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        int d = hyperparameters.EmbeddingLength;
        int kv = hyperparameters.KeyValueLength;
        int ff = hyperparameters.FeedForwardLength;
        AttentionNorm = Ones(d);
        Query = new float[d * d];
        Key = new float[kv * d];
        Value = new float[kv * d];
        AttentionOutput = new float[d * d];
        FeedForwardNorm = Ones(d);
        Gate = new float[ff * d];
        Up = new float[ff * d];
        Down = new float[d * ff];
    }

    /// <summary>RMSNorm gain before attention, <c>[d]</c> (<c>blk.N.attn_norm.weight</c>).</summary>
    public float[] AttentionNorm { get; }

    /// <summary>Query projection, <c>[d, d]</c> (<c>blk.N.attn_q.weight</c>).</summary>
    public float[] Query { get; }

    /// <summary>Key projection, <c>[kv, d]</c> (<c>blk.N.attn_k.weight</c>).</summary>
    public float[] Key { get; }

    /// <summary>Value projection, <c>[kv, d]</c> (<c>blk.N.attn_v.weight</c>).</summary>
    public float[] Value { get; }

    /// <summary>Attention output projection, <c>[d, d]</c> (<c>blk.N.attn_output.weight</c>).</summary>
    public float[] AttentionOutput { get; }

    /// <summary>RMSNorm gain before the feed-forward, <c>[d]</c> (<c>blk.N.ffn_norm.weight</c>).</summary>
    public float[] FeedForwardNorm { get; }

    /// <summary>SwiGLU gate projection, <c>[ff, d]</c> (<c>blk.N.ffn_gate.weight</c>).</summary>
    public float[] Gate { get; }

    /// <summary>SwiGLU up projection, <c>[ff, d]</c> (<c>blk.N.ffn_up.weight</c>).</summary>
    public float[] Up { get; }

    /// <summary>Down projection, <c>[d, ff]</c> (<c>blk.N.ffn_down.weight</c>).</summary>
    public float[] Down { get; }

    private static float[] Ones(int length)
    {
        var values = new float[length];
        Array.Fill(values, 1f);
        return values;
    }
}

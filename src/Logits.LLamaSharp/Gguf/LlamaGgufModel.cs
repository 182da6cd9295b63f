
namespace Logits.LLamaSharp.Gguf;

/// <summary>
/// A llama-architecture decoder (RMSNorm, rotary attention, SwiGLU) with F32 weights and a SentencePiece vocabulary,
/// saved as a GGUF file that llama.cpp (and so LLamaSharp) loads.
/// </summary>
/// <remarks>
/// <para>The tensors follow llama.cpp's names (<c>token_embd.weight</c>, <c>blk.N.attn_q.weight</c>, …,
/// <c>output_norm.weight</c>, <c>output.weight</c>) and the metadata its <c>llama</c> loader requires. Weights are
/// row-major in PyTorch's <c>[out, in]</c> layout; the writer gives ggml the reversed shape over the same bytes.
/// When <see cref="Output"/> is null the output head is tied to the token embedding, as llama.cpp does when
/// <c>output.weight</c> is absent.</para>
/// <para>Use it to write test models with designed weights (<see cref="SyntheticLlamaModel"/>) or to export a model
/// trained elsewhere. Nothing is quantised; a model of <c>V</c> tokens and width <c>d</c> takes about
/// <c>8·V·d</c> bytes for the embedding and the head.</para>
/// </remarks>
public sealed class LlamaGgufModel
{
    /// <summary>Creates a model with zero weights (norm gains 1) for the given shape and vocabulary.</summary>
    /// <param name="hyperparameters">The shape.</param>
    /// <param name="vocabulary">The tokenizer vocabulary; its size is the model's vocabulary size.</param>
    /// <param name="tiedOutput">Leave <see cref="Output"/> null, so the head reuses the token embedding.</param>
    public LlamaGgufModel(LlamaHyperparameters hyperparameters, SpmVocabulary vocabulary, bool tiedOutput = false)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        ArgumentNullException.ThrowIfNull(vocabulary);
        Hyperparameters = hyperparameters;
        Vocabulary = vocabulary;
        int d = hyperparameters.EmbeddingLength;
        TokenEmbedding = new float[(long)vocabulary.Count * d];
        OutputNorm = new float[d];
        Array.Fill(OutputNorm, 1f);
        Output = tiedOutput ? null : new float[(long)vocabulary.Count * d];
        var layers = new LlamaLayerWeights[hyperparameters.BlockCount];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i] = new LlamaLayerWeights(hyperparameters);
        }

        Layers = layers;
    }

    /// <summary>The shape.</summary>
    public LlamaHyperparameters Hyperparameters { get; }

    /// <summary>The tokenizer vocabulary.</summary>
    public SpmVocabulary Vocabulary { get; }

    /// <summary>The model name written as <c>general.name</c>.</summary>
    public string Name { get; set; } = "logits-llama";

    /// <summary>The token embedding, <c>[V, d]</c> (<c>token_embd.weight</c>).</summary>
    public float[] TokenEmbedding { get; }

    /// <summary>The final RMSNorm gain, <c>[d]</c> (<c>output_norm.weight</c>).</summary>
    public float[] OutputNorm { get; }

    /// <summary>The output head, <c>[V, d]</c> (<c>output.weight</c>), or null when tied to the embedding.</summary>
    public float[]? Output { get; }

    /// <summary>The decoder blocks.</summary>
    public IReadOnlyList<LlamaLayerWeights> Layers { get; }

    /// <summary>Writes the model as a GGUF file.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <exception cref="InvalidOperationException">A weight holds NaN or an infinity (llama.cpp would load it and compute garbage).</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Save(stream);
    }

    /// <summary>Writes the model as GGUF to a stream (left open).</summary>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="InvalidOperationException">A weight holds NaN or an infinity.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var h = Hyperparameters;
        long d = h.EmbeddingLength;
        long v = Vocabulary.Count;
        long kv = h.KeyValueLength;
        long ff = h.FeedForwardLength;

        var writer = new GgufWriter();
        writer.AddString("general.architecture", "llama");
        writer.AddString("general.name", Name);
        writer.AddUInt32("general.file_type", 0); // all F32
        writer.AddUInt32("llama.context_length", (uint)h.ContextLength);
        writer.AddUInt32("llama.embedding_length", (uint)h.EmbeddingLength);
        writer.AddUInt32("llama.block_count", (uint)h.BlockCount);
        writer.AddUInt32("llama.feed_forward_length", (uint)h.FeedForwardLength);
        writer.AddUInt32("llama.attention.head_count", (uint)h.HeadCount);
        writer.AddUInt32("llama.attention.head_count_kv", (uint)h.HeadCountKv);
        writer.AddUInt32("llama.rope.dimension_count", (uint)h.HeadSize);
        writer.AddFloat32("llama.rope.freq_base", h.RopeFrequencyBase);
        writer.AddFloat32("llama.attention.layer_norm_rms_epsilon", h.RmsNormEpsilon);
        writer.AddUInt32("llama.vocab_size", (uint)v);
        Vocabulary.WriteTo(writer);

        Add(writer, "token_embd.weight", TokenEmbedding, d, v);
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            string prefix = $"blk.{i}.";
            Add(writer, prefix + "attn_norm.weight", layer.AttentionNorm, d);
            Add(writer, prefix + "attn_q.weight", layer.Query, d, d);
            Add(writer, prefix + "attn_k.weight", layer.Key, d, kv);
            Add(writer, prefix + "attn_v.weight", layer.Value, d, kv);
            Add(writer, prefix + "attn_output.weight", layer.AttentionOutput, d, d);
            Add(writer, prefix + "ffn_norm.weight", layer.FeedForwardNorm, d);
            Add(writer, prefix + "ffn_gate.weight", layer.Gate, d, ff);
            Add(writer, prefix + "ffn_up.weight", layer.Up, d, ff);
            Add(writer, prefix + "ffn_down.weight", layer.Down, ff, d);
        }

        Add(writer, "output_norm.weight", OutputNorm, d);
        if (Output is not null)
        {
            Add(writer, "output.weight", Output, d, v);
        }

        writer.Write(stream);
    }

    private static void Add(GgufWriter writer, string name, float[] values, params long[] shape)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                throw new InvalidOperationException($"Tensor '{name}' holds {values[i]} at index {i}; every weight must be finite.");
            }
        }

        writer.AddTensor(name, values, shape);
    }
}

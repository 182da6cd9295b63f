using System;
using System.Collections.Generic;
using Logits.LLamaSharp.Gguf;
using Logits.TorchSharp.Models;

namespace Logits.Samples.Demo.TinyLlama;

/// <summary>
/// The bridge from a TorchSharp <see cref="LlamaDecoder"/> to a GGUF file llama.cpp loads: the two packages do not know
/// each other (Logits.TorchSharp has no LLamaSharp dependency and Logits.LLamaSharp no TorchSharp one), so an application
/// that has both joins them with these few lines.
/// </summary>
/// <remarks>
/// The decoder's rotary positions already pair adjacent dimensions as llama.cpp's <c>llama</c> architecture does, and its
/// projections are PyTorch <c>[out, in]</c> matrices, which is <see cref="LlamaGgufModel"/>'s layout: every tensor is copied
/// as it is, under the name <see cref="LlamaDecoder.ExportTensors"/> gives it.
/// </remarks>
public static class LlamaExport
{
    /// <summary>Copies the decoder's weights into a <see cref="LlamaGgufModel"/>.</summary>
    /// <param name="decoder">The trained decoder.</param>
    /// <param name="vocabulary">The tokenizer vocabulary, with exactly <c>decoder.VocabSize</c> tokens.</param>
    /// <param name="contextLength">The context length written as <c>llama.context_length</c>; default the decoder's <see cref="LlamaDecoder.MaxSequenceLength"/>.</param>
    /// <returns>The model, ready to <see cref="LlamaGgufModel.Save(string)"/>.</returns>
    /// <exception cref="ArgumentException">The vocabulary size differs from the decoder's.</exception>
    public static LlamaGgufModel ToGguf(LlamaDecoder decoder, SpmVocabulary vocabulary, int? contextLength = null)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var o = decoder.Options;
        if (vocabulary.Count != o.VocabSize)
        {
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} tokens but the decoder {o.VocabSize}.", nameof(vocabulary));
        }

        var hyperparameters = new LlamaHyperparameters(
            o.Width,
            o.Layers,
            o.FeedForwardWidth,
            o.Heads,
            contextLength: contextLength ?? o.MaxSequenceLength,
            rmsNormEpsilon: (float)o.RmsNormEpsilon,
            ropeFrequencyBase: (float)o.RopeFrequencyBase);
        var model = new LlamaGgufModel(hyperparameters, vocabulary, tiedOutput: o.TiedOutputHead) { Name = "logits-tiny-llama" };
        var tensors = decoder.ExportTensors();
        Copy(tensors, "token_embd.weight", model.TokenEmbedding);
        Copy(tensors, "output_norm.weight", model.OutputNorm);
        if (model.Output is not null)
        {
            Copy(tensors, "output.weight", model.Output);
        }

        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            string prefix = $"blk.{i}.";
            Copy(tensors, prefix + "attn_norm.weight", layer.AttentionNorm);
            Copy(tensors, prefix + "attn_q.weight", layer.Query);
            Copy(tensors, prefix + "attn_k.weight", layer.Key);
            Copy(tensors, prefix + "attn_v.weight", layer.Value);
            Copy(tensors, prefix + "attn_output.weight", layer.AttentionOutput);
            Copy(tensors, prefix + "ffn_norm.weight", layer.FeedForwardNorm);
            Copy(tensors, prefix + "ffn_gate.weight", layer.Gate);
            Copy(tensors, prefix + "ffn_up.weight", layer.Up);
            Copy(tensors, prefix + "ffn_down.weight", layer.Down);
        }

        return model;
    }

    private static void Copy(IReadOnlyDictionary<string, float[]> tensors, string name, float[] destination)
    {
        if (!tensors.TryGetValue(name, out var values))
        {
            throw new InvalidOperationException($"The decoder exported no tensor '{name}'.");
        }

        if (values.Length != destination.Length)
        {
            throw new InvalidOperationException($"Tensor '{name}' has {values.Length} values; the GGUF model expects {destination.Length}.");
        }

        values.CopyTo(destination, 0);
    }
}

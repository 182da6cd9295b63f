using System;
using System.Text;
using Logits.TorchSharp.Models;
using static TorchSharp.torch;

namespace Logits.Samples.Demo.TinyLlama;

/// <summary>The tour's tiny model: its shape and batches of <see cref="TinyCorpus"/> text.</summary>
public static class TinyLlamaTraining
{
    /// <summary>The training window: the model reads this many tokens and predicts each next one.</summary>
    public const int WindowLength = 64;

    /// <summary>The tour's decoder shape: d = 64, 4 heads, 2 blocks, SwiGLU width 176, tied head, context 128.</summary>
    /// <param name="vocabSize">The vocabulary size.</param>
    /// <returns>The options.</returns>
    public static LlamaDecoderOptions Options(int vocabSize) => new()
    {
        VocabSize = vocabSize,
        MaxSequenceLength = 2 * WindowLength,
        Width = 64,
        Heads = 4,
        Layers = 2,
    };

    /// <summary>
    /// A batch of windows <c>[batch, length + 1]</c>: each row is BOS, "▁", then fresh sentences of the corpus, cut to length,
    /// so every row starts the way a prompt tokenized by llama.cpp does.
    /// </summary>
    /// <param name="random">The random source of the sentences.</param>
    /// <param name="vocabulary">The vocabulary.</param>
    /// <param name="batch">The number of rows.</param>
    /// <param name="length">The model's input length <c>T</c>; rows hold <c>T + 1</c> tokens.</param>
    /// <returns>An int64 tensor the caller disposes.</returns>
    public static Tensor Batch(Random random, CharacterVocabulary vocabulary, int batch, int length = WindowLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var ids = new long[batch * (length + 1)];
        var text = new StringBuilder();
        for (int b = 0; b < batch; b++)
        {
            text.Clear();
            TinyCorpus.Append(random, text, length);
            var row = vocabulary.Encode(text.ToString());
            for (int k = 0; k <= length; k++)
            {
                ids[(b * (length + 1)) + k] = row[k];
            }
        }

        return tensor(ids, new long[] { batch, length + 1 });
    }
}

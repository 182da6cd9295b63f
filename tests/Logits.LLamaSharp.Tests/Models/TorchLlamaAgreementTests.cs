using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using LLama;
using LLama.Common;
using LLama.Native;
using Logits.LLamaSharp.Models;
using Logits.Samples.Demo.TinyLlama;
using Logits.Tensors;
using Logits.TorchSharp.Models;
using Xunit;
using static TorchSharp.torch;

namespace Logits.LLamaSharp.Tests.Models;

/// <summary>
/// A TorchSharp <see cref="LlamaDecoder"/>, briefly trained, exported to GGUF and loaded by llama.cpp, gives the same
/// next-token logits in both runtimes: the rotary convention, the norms, SwiGLU, the tensor names and layouts all match.
/// </summary>
public sealed class TorchLlamaAgreementTests
{
    private const double Tolerance = 1e-3;

    /// <summary>llama.cpp's native library is configured once for the test run (SyntheticModels) before any load.</summary>
    public TorchLlamaAgreementTests() => SyntheticModels.EnsureNativeLoaded();

    // Trained once per test run and shared (read-only: the tests only run forward passes and export).
    private static readonly Lazy<LlamaDecoder> TiedDecoder = new(() => TrainedDecoder(new CharacterVocabulary(), tiedHead: true));
    private static readonly Lazy<LlamaDecoder> UntiedDecoder = new(() => TrainedDecoder(new CharacterVocabulary(), tiedHead: false));

    private static readonly string[] Prompts =
    {
        string.Empty,
        "the",
        "the small cat chases",
        "the old dog buries a bone by the river. the",
        "the fox hides the box under the tree, and the fox rests. the happy bird sings to a",
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Logits_of_the_exported_model_in_llama_cpp_match_TorchSharp(bool tiedHead)
    {
        var vocabulary = new CharacterVocabulary();
        var decoder = tiedHead ? TiedDecoder.Value : UntiedDecoder.Value;
        string path = Path.Combine(Path.GetTempPath(), $"logits-torch-llama-{Guid.NewGuid():N}.gguf");
        try
        {
            LlamaExport.ToGguf(decoder, vocabulary.Spm).Save(path);
            var (worst, spread) = Compare(decoder, vocabulary, path);

            // A meaningful comparison: the trained logits spread over several nats, far beyond the tolerance.
            spread.Should().BeGreaterThan(4.0);
            worst.Should().BeLessThan(Tolerance);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Hugging_Face_rotary_pairing_would_disagree()
    {
        // The control: the same weights with the query and key rows of each head in Hugging Face's order (dimension i
        // paired with i + d_h/2) must not match, so the agreement above cannot come from rotary positions doing nothing.
        var vocabulary = new CharacterVocabulary();
        var decoder = TiedDecoder.Value;
        var gguf = LlamaExport.ToGguf(decoder, vocabulary.Spm);
        int d = decoder.Options.Width;
        int headSize = decoder.Options.HeadSize;
        foreach (var layer in gguf.Layers)
        {
            ToHalfSplitOrder(layer.Query, d, headSize);
            ToHalfSplitOrder(layer.Key, d, headSize);
        }

        string path = Path.Combine(Path.GetTempPath(), $"logits-torch-llama-{Guid.NewGuid():N}.gguf");
        try
        {
            gguf.Save(path);
            var (worst, _) = Compare(decoder, vocabulary, path);
            worst.Should().BeGreaterThan(100 * Tolerance);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Llama_cpp_tokenizes_the_character_vocabulary_as_the_training_encoder_does()
    {
        var vocabulary = new CharacterVocabulary();
        using var decoder = LlamaDecoder.Create(TinyLlamaTraining.Options(vocabulary.Count) with { Width = 32, Layers = 1 }, seed: 1);
        string path = Path.Combine(Path.GetTempPath(), $"logits-torch-llama-{Guid.NewGuid():N}.gguf");
        try
        {
            LlamaExport.ToGguf(decoder, vocabulary.Spm).Save(path);
            using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { GpuLayerCount = 0 });
            foreach (string prompt in Prompts)
            {
                var llama = weights.Tokenize(prompt, true, true, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();
                var ours = vocabulary.Encode(prompt);

                // llama.cpp adds its space prefix only to non-empty text.
                (prompt.Length == 0 ? ours[..1] : ours).Should().Equal(llama, $"prompt \"{prompt}\"");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static LlamaDecoder TrainedDecoder(CharacterVocabulary vocabulary, bool tiedHead)
    {
        // One torch thread: the test machine has few cores and llama.cpp's threads run in the same process.
        set_num_threads(1);
        var options = TinyLlamaTraining.Options(vocabulary.Count) with { Width = 32, Heads = 4, Layers = 2, TiedOutputHead = tiedHead };
        var decoder = LlamaDecoder.Create(options, seed: 7);
        var random = new Random(3);
        using var trainer = new LlamaDecoderTrainer(decoder, learningRate: 1e-2);
        for (int step = 0; step < 40; step++)
        {
            using var batch = TinyLlamaTraining.Batch(random, vocabulary, batch: 8, length: 32);
            trainer.Step(batch);
        }

        decoder.eval();
        return decoder;
    }

    /// <summary>The largest absolute logit difference over <see cref="Prompts"/>, and the smallest per-row logit spread (max − min).</summary>
    private static (double Worst, double Spread) Compare(LlamaDecoder decoder, CharacterVocabulary vocabulary, string path)
    {
        var parameters = new ModelParams(path)
        {
            ContextSize = 256,
            SeqMax = 1,
            Threads = 2,
            BatchThreads = 2,
            GpuLayerCount = 0,

            // F16 caches would round keys and values to about 1e-3 relative; the comparison wants llama.cpp's F32 math.
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var llama = new LlamaLanguageModel(weights, parameters);
        double worst = 0;
        double spread = double.PositiveInfinity;
        foreach (string prompt in Prompts)
        {
            var ids = llama.Tokenize(prompt, addBos: true).ToArray();
            using var batch = new CpuLogitBatch(1, llama.VocabSize);
            llama.NextTokenLogits(new ReadOnlyMemory<int>[] { ids }, batch);
            var fromLlama = batch.ToArray();

            float[] fromTorch;
            using (var scope = NewDisposeScope())
            using (var noGrad = no_grad())
            {
                using var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length });
                fromTorch = decoder.forward(input)[0, ids.Length - 1].data<float>().ToArray();
            }

            fromTorch.Length.Should().Be(fromLlama.Length);
            for (int v = 0; v < fromTorch.Length; v++)
            {
                worst = Math.Max(worst, Math.Abs(fromTorch[v] - fromLlama[v]));
            }

            spread = Math.Min(spread, fromTorch.Max() - fromTorch.Min());
        }

        return (worst, spread);
    }

    /// <summary>Reorders the rows of each head from adjacent pairs (2i, 2i + 1) to Hugging Face's halves (i, i + d_h/2).</summary>
    private static void ToHalfSplitOrder(float[] weight, int inputs, int headSize)
    {
        int heads = weight.Length / inputs / headSize;
        var copy = (float[])weight.Clone();
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < headSize / 2; i++)
            {
                int even = (h * headSize) + (2 * i);
                int first = (h * headSize) + i;
                int second = first + (headSize / 2);
                Array.Copy(copy, even * inputs, weight, first * inputs, inputs);
                Array.Copy(copy, (even + 1) * inputs, weight, second * inputs, inputs);
            }
        }
    }
}

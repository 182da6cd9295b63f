
namespace Logits.LLamaSharp.Gguf;

/// <summary>
/// Small llama-architecture models with designed weights, written at run time so tests, samples and benchmarks need
/// no download: each piece token's most likely successor is the next piece id, and attention lets earlier tokens
/// move the logits.
/// </summary>
/// <remarks>
/// <para>Design (width <c>d</c>, seeded Gaussian weights): token embeddings <c>E_t ~ N(0, I)</c>; the output row of
/// <see cref="Successor"/>(t) is <c>(SuccessorStrength / √d)·E_t</c>, so after the final RMSNorm the successor's logit
/// is about <c>SuccessorStrength·√d</c> while any other token's is about <c>N(0, SuccessorStrength²)</c>. Rows of the
/// special and byte tokens are small noise, so they are rarely chosen. Attention uses random query, key and value
/// projections (entries <c>N(0, 1/d)</c>) and an output projection scaled by <c>ContextStrength</c>, so the logits
/// depend on the whole context; the feed-forward is small noise.</para>
/// <para>Sizes: about 0.45 MB at V = 512 and 66 MB at V = 128256 with the default width 64.</para>
/// </remarks>
public static class SyntheticLlamaModel
{
    /// <summary>The designed most likely next token of <paramref name="token"/>: the next piece id, wrapping to the first piece.</summary>
    /// <param name="token">A token id in <c>[0, vocabSize)</c>.</param>
    /// <param name="vocabSize">The vocabulary size.</param>
    /// <returns>The successor id; for special and byte tokens (which have no designed successor) the first piece id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="token"/> is outside the vocabulary.</exception>
    public static int Successor(int token, int vocabSize)
    {
        if ((uint)token >= (uint)vocabSize)
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"The token must be in [0, {vocabSize}).");
        }

        return token < SpmVocabulary.FirstPieceId || token == vocabSize - 1 ? SpmVocabulary.FirstPieceId : token + 1;
    }

    /// <summary>Creates the model.</summary>
    /// <param name="options">Shape, seed and strengths (defaults: V = 512, d = 64, one block, four heads).</param>
    /// <returns>The model, ready to <see cref="LlamaGgufModel.Save(string)"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The shape is invalid.</exception>
    public static LlamaGgufModel Create(SyntheticLlamaModelOptions? options = null)
    {
        options ??= new SyntheticLlamaModelOptions();
        var hyperparameters = new LlamaHyperparameters(
            options.EmbeddingLength, options.BlockCount, options.FeedForwardLength, options.HeadCount, contextLength: options.ContextLength);
        var vocabulary = SpmVocabulary.CreateSynthetic(options.VocabSize);
        var model = new LlamaGgufModel(hyperparameters, vocabulary) { Name = $"logits-synthetic-v{options.VocabSize}" };
        var random = new GaussianStream(options.Seed);
        int d = hyperparameters.EmbeddingLength;
        int v = vocabulary.Count;
        float invSqrtD = 1f / MathF.Sqrt(d);

        random.Fill(model.TokenEmbedding, 1f);
        var output = model.Output!;
        float successor = options.SuccessorStrength * invSqrtD;
        for (int u = 0; u < v; u++)
        {
            var row = output.AsSpan(u * d, d);
            if (u < SpmVocabulary.FirstPieceId)
            {
                random.Fill(row, 0.1f * successor);
                continue;
            }

            // Token u is the successor of u - 1 (the first piece: of the last token).
            int predecessor = u == SpmVocabulary.FirstPieceId ? v - 1 : u - 1;
            var embedding = model.TokenEmbedding.AsSpan(predecessor * d, d);
            for (int i = 0; i < d; i++)
            {
                row[i] = successor * embedding[i];
            }
        }

        foreach (var layer in model.Layers)
        {
            random.Fill(layer.Query, invSqrtD);
            random.Fill(layer.Key, invSqrtD);
            random.Fill(layer.Value, invSqrtD);
            random.Fill(layer.AttentionOutput, options.ContextStrength * invSqrtD);
            random.Fill(layer.Gate, invSqrtD);
            random.Fill(layer.Up, invSqrtD);
            random.Fill(layer.Down, 0.05f / MathF.Sqrt(hyperparameters.FeedForwardLength));
        }

        return model;
    }

    /// <summary>Creates the model and saves it.</summary>
    /// <param name="path">The GGUF file to create or overwrite (its folder must exist).</param>
    /// <param name="options">Shape, seed and strengths.</param>
    /// <returns>The model that was written.</returns>
    public static LlamaGgufModel Write(string path, SyntheticLlamaModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var model = Create(options);
        model.Save(path);
        return model;
    }

    /// <summary>Writes the model to a new file in the temporary folder and returns its path (the caller deletes it).</summary>
    /// <param name="options">Shape, seed and strengths.</param>
    /// <returns>The path of the GGUF file.</returns>
    public static string WriteTemporary(SyntheticLlamaModelOptions? options = null)
    {
        string path = Path.Combine(Path.GetTempPath(), $"logits-synthetic-{Guid.NewGuid():N}.gguf");
        Write(path, options);
        return path;
    }

    /// <summary>Seeded standard normal numbers (Box-Muller over <see cref="Random"/>'s seeded, stable sequence).</summary>
    private sealed class GaussianStream
    {
        private readonly Random _random;
        private double _spare;
        private bool _hasSpare;

        public GaussianStream(int seed) => _random = new Random(seed);

        public void Fill(Span<float> destination, float scale)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (float)(scale * Next());
            }
        }

        private double Next()
        {
            if (_hasSpare)
            {
                _hasSpare = false;
                return _spare;
            }

            double u1 = 1.0 - _random.NextDouble();
            double u2 = _random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1));
            _spare = radius * Math.Sin(2 * Math.PI * u2);
            _hasSpare = true;
            return radius * Math.Cos(2 * Math.PI * u2);
        }
    }
}

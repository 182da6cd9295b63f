
namespace Logits.LLamaSharp.Gguf;

/// <summary>The shape, seed and designed strengths of a <see cref="SyntheticLlamaModel"/>.</summary>
public sealed class SyntheticLlamaModelOptions
{
    private readonly int _vocabSize = 512;
    private readonly float _successorStrength = 1f;
    private readonly float _contextStrength = 1f;

    /// <summary>The vocabulary size, at least 312 (default 512).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 312.</exception>
    public int VocabSize
    {
        get => _vocabSize;
        init
        {
            if (value < SpmVocabulary.FirstPieceId + 53)
            {
                throw new ArgumentOutOfRangeException(nameof(VocabSize), value, $"The vocabulary needs at least {SpmVocabulary.FirstPieceId + 53} tokens.");
            }

            _vocabSize = value;
        }
    }

    /// <summary>The model width (default 64); checked with the other shape values when the model is made.</summary>
    public int EmbeddingLength { get; init; } = 64;

    /// <summary>The number of decoder blocks (default 1).</summary>
    public int BlockCount { get; init; } = 1;

    /// <summary>The number of attention heads (default 4).</summary>
    public int HeadCount { get; init; } = 4;

    /// <summary>The SwiGLU hidden width (default 128).</summary>
    public int FeedForwardLength { get; init; } = 128;

    /// <summary>The context length written in the file (default 2048).</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>The seed of every random weight (default 1): the same options give the same file.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// How strongly token <c>t</c> predicts its successor, ≥ 0 (default 1): the successor's logit exceeds a random
    /// token's by about <c>SuccessorStrength · √d</c> when the context contributes nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public float SuccessorStrength
    {
        get => _successorStrength;
        init
        {
            if (!(value >= 0) || !float.IsFinite(value))
            {
                throw new ArgumentOutOfRangeException(nameof(SuccessorStrength), value, "The strength must be finite and at least 0.");
            }

            _successorStrength = value;
        }
    }

    /// <summary>
    /// The scale of the attention output relative to the token's own embedding, ≥ 0 (default 1): 0 makes the
    /// next-token logits depend on the last token only; larger values let earlier tokens move them more.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public float ContextStrength
    {
        get => _contextStrength;
        init
        {
            if (!(value >= 0) || !float.IsFinite(value))
            {
                throw new ArgumentOutOfRangeException(nameof(ContextStrength), value, "The strength must be finite and at least 0.");
            }

            _contextStrength = value;
        }
    }
}

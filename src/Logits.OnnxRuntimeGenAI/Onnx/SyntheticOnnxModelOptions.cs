
namespace Logits.OnnxRuntimeGenAI.Onnx;

/// <summary>The shape and seed of a <see cref="SyntheticOnnxModel"/>.</summary>
public sealed class SyntheticOnnxModelOptions
{
    private readonly int _vocabSize = 512;
    private readonly int _contextLength = 256;

    /// <summary>The vocabulary size, at least <see cref="SyntheticOnnxModel.MinimumVocabSize"/> (default 512). Ids
    /// 0..255 are the byte-level tokens, 256 is <c>&lt;|endoftext|&gt;</c>, the chat markers follow, and the rest are
    /// two-letter merges.</summary>
    public int VocabSize
    {
        get => _vocabSize;
        init
        {
            if (value < SyntheticOnnxModel.MinimumVocabSize || value > SyntheticOnnxModel.MaximumVocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(VocabSize), value,
                    $"The vocabulary holds {SyntheticOnnxModel.MinimumVocabSize}..{SyntheticOnnxModel.MaximumVocabSize} tokens.");
            }

            _vocabSize = value;
        }
    }

    /// <summary>The context length (the runtime's <c>max_length</c>), 2..4096 (default 256).</summary>
    public int ContextLength
    {
        get => _contextLength;
        init
        {
            if (value < 2 || value > 4096)
            {
                throw new ArgumentOutOfRangeException(nameof(ContextLength), value, "The context length must be in 2..4096.");
            }

            _contextLength = value;
        }
    }

    /// <summary>The seed of the designed weights (default 1).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Whether the graph outputs its logits as float16, as many exported models do (default false: float32).
    /// The values are the designed float32 logits rounded to the nearest float16.</summary>
    public bool Float16Logits { get; init; }
}

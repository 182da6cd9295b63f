
namespace Logits.TorchSharp.Models;

/// <summary>The sizes of a <see cref="LlamaDecoder"/>: vocabulary, width, heads, layers, SwiGLU width, context length, norm epsilon, rotary base, head tying.</summary>
/// <remarks>
/// <para>Every property validates its own range when it is set. The rules that join two properties (the width splits
/// into <see cref="Heads"/> heads of an even size, for the rotary pairs) are checked by <see cref="Validate"/>, which
/// <see cref="LlamaDecoder.Create"/> calls before building anything.</para>
/// <code>
/// var options = new LlamaDecoderOptions { VocabSize = 290, MaxSequenceLength = 64, Width = 64, Heads = 4, Layers = 2 };
/// </code>
/// </remarks>
public sealed record LlamaDecoderOptions
{
    private readonly int? _feedForwardWidth;

    /// <summary>V, the vocabulary size, at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int VocabSize { get; init => field = Require.AtLeast(value, 1, nameof(VocabSize)); } = 1;

    /// <summary>The longest sequence the model accepts (the rotary tables' length), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int MaxSequenceLength { get; init => field = Require.AtLeast(value, 1, nameof(MaxSequenceLength)); } = 1;

    /// <summary>d, the model width, at least 1, splitting into <see cref="Heads"/> heads of an even size (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Width { get; init => field = Require.AtLeast(value, 1, nameof(Width)); } = 64;

    /// <summary>The number of attention heads (query, key and value alike), at least 1 (default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Heads { get; init => field = Require.AtLeast(value, 1, nameof(Heads)); } = 4;

    /// <summary>The number of decoder blocks, at least 1 (default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Layers { get; init => field = Require.AtLeast(value, 1, nameof(Layers)); } = 2;

    /// <summary>
    /// The SwiGLU hidden width, at least 1 (default <c>⌈(8/3)·Width / 8⌉·8</c>, the LLaMA paper's <c>2/3 · 4d</c> rounded
    /// up to a multiple of 8).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FeedForwardWidth
    {
        get => _feedForwardWidth ?? checked((((8 * Width / 3) + 7) / 8) * 8);
        init => _feedForwardWidth = Require.AtLeast(value, 1, nameof(FeedForwardWidth));
    }

    /// <summary>The RMSNorm epsilon, positive and finite (default 1e-5, llama.cpp's default for the llama architecture).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double RmsNormEpsilon { get; init => field = Require.FinitePositive(value, nameof(RmsNormEpsilon)); } = 1e-5;

    /// <summary>The rotary frequency base θ, positive and finite (default 10000).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double RopeFrequencyBase { get; init => field = Require.FinitePositive(value, nameof(RopeFrequencyBase)); } = 10000;

    /// <summary>Whether the output head reuses the token embedding matrix (<c>logits = h · Eᵀ</c>; default <see langword="true"/>)
    /// instead of its own bias-free <c>[V, d]</c> matrix.</summary>
    public bool TiedOutputHead { get; init; } = true;

    /// <summary>The size of one head: <c>Width / Heads</c>.</summary>
    public int HeadSize => Width / Heads;

    /// <summary>Checks the rule that joins two properties: <see cref="Width"/> splits into <see cref="Heads"/> heads of an even size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It does not (ParamName <c>Width</c>).</exception>
    public void Validate()
    {
        if (Width % Heads != 0 || HeadSize % 2 != 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Width), Width, $"must split into Heads ({Heads}) heads of an even size (rotary positions rotate pairs of dimensions)");
        }
    }
}

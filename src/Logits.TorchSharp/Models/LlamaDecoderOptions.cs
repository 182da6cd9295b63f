using System;

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
    private readonly int _vocabSize = 1;
    private readonly int _maxSequenceLength = 1;
    private readonly int _width = 64;
    private readonly int _heads = 4;
    private readonly int _layers = 2;
    private readonly int? _feedForwardWidth;
    private readonly double _rmsNormEpsilon = 1e-5;
    private readonly double _ropeFrequencyBase = 10000;

    /// <summary>V, the vocabulary size, at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int VocabSize
    {
        get => _vocabSize;
        init => _vocabSize = AtLeastOne(value, nameof(VocabSize));
    }

    /// <summary>The longest sequence the model accepts (the rotary tables' length), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int MaxSequenceLength
    {
        get => _maxSequenceLength;
        init => _maxSequenceLength = AtLeastOne(value, nameof(MaxSequenceLength));
    }

    /// <summary>d, the model width, at least 1, splitting into <see cref="Heads"/> heads of an even size (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Width
    {
        get => _width;
        init => _width = AtLeastOne(value, nameof(Width));
    }

    /// <summary>The number of attention heads (query, key and value alike), at least 1 (default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Heads
    {
        get => _heads;
        init => _heads = AtLeastOne(value, nameof(Heads));
    }

    /// <summary>The number of decoder blocks, at least 1 (default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Layers
    {
        get => _layers;
        init => _layers = AtLeastOne(value, nameof(Layers));
    }

    /// <summary>
    /// The SwiGLU hidden width, at least 1 (default <c>⌈(8/3)·Width / 8⌉·8</c>, the LLaMA paper's <c>2/3 · 4d</c> rounded
    /// up to a multiple of 8).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FeedForwardWidth
    {
        get => _feedForwardWidth ?? checked((((8 * _width / 3) + 7) / 8) * 8);
        init => _feedForwardWidth = AtLeastOne(value, nameof(FeedForwardWidth));
    }

    /// <summary>The RMSNorm epsilon, positive and finite (default 1e-5, llama.cpp's default for the llama architecture).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double RmsNormEpsilon
    {
        get => _rmsNormEpsilon;
        init => _rmsNormEpsilon = PositiveFinite(value, nameof(RmsNormEpsilon));
    }

    /// <summary>The rotary frequency base θ, positive and finite (default 10000).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive and finite.</exception>
    public double RopeFrequencyBase
    {
        get => _ropeFrequencyBase;
        init => _ropeFrequencyBase = PositiveFinite(value, nameof(RopeFrequencyBase));
    }

    /// <summary>Whether the output head reuses the token embedding matrix (<c>logits = h · Eᵀ</c>; default <see langword="true"/>)
    /// instead of its own bias-free <c>[V, d]</c> matrix.</summary>
    public bool TiedOutputHead { get; init; } = true;

    /// <summary>The size of one head: <c>Width / Heads</c>.</summary>
    public int HeadSize => _width / _heads;

    /// <summary>Checks the rule that joins two properties: <see cref="Width"/> splits into <see cref="Heads"/> heads of an even size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">It does not (ParamName <c>Width</c>).</exception>
    public void Validate()
    {
        if (_width % _heads != 0 || (_width / _heads) % 2 != 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Width), _width, $"must split into Heads ({_heads}) heads of an even size (rotary positions rotate pairs of dimensions)");
        }
    }

    private static int AtLeastOne(int value, string name)
    {
        if (value < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, value, "must be at least 1");
        }

        return value;
    }

    private static double PositiveFinite(double value, string name)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(name, value, "must be positive and finite");
        }

        return value;
    }
}

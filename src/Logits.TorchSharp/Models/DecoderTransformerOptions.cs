using System;

namespace Logits.TorchSharp.Models;

/// <summary>The sizes of a <see cref="DecoderTransformer"/>: vocabulary, width, heads, layers, feed-forward width, context length, dropout, head tying.</summary>
/// <remarks>
/// <para>Every property validates its own range when it is set (in the initialiser or a <c>with</c> expression). The one
/// rule that joins two properties, <see cref="Width"/> divisible by <see cref="Heads"/>, cannot be checked in an
/// <c>init</c> accessor (the other property may not be set yet); <see cref="Validate"/> checks it and
/// <see cref="DecoderTransformer.Create"/> calls it before building anything.</para>
/// <code>
/// var options = new DecoderTransformerOptions { VocabSize = 16, MaxSequenceLength = 32, Width = 64, Heads = 4, Layers = 2 };
/// </code>
/// </remarks>
public sealed record DecoderTransformerOptions
{
    private readonly int _vocabSize = 1;
    private readonly int _width = 64;
    private readonly int _heads = 4;
    private readonly int _layers = 2;
    private readonly int? _feedForwardWidth;
    private readonly int _maxSequenceLength = 1;
    private readonly double _dropout;

    /// <summary>V, the vocabulary size (the number of token ids and the length of every logit row), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int VocabSize
    {
        get => _vocabSize;
        init => _vocabSize = AtLeastOne(value, nameof(VocabSize));
    }

    /// <summary>The longest sequence the model accepts (the number of learned positions), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int MaxSequenceLength
    {
        get => _maxSequenceLength;
        init => _maxSequenceLength = AtLeastOne(value, nameof(MaxSequenceLength));
    }

    /// <summary>d, the model width (embedding and hidden-state size), at least 1 and divisible by <see cref="Heads"/> (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Width
    {
        get => _width;
        init => _width = AtLeastOne(value, nameof(Width));
    }

    /// <summary>The number of attention heads, at least 1; each head has width <c>Width / Heads</c> (default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Heads
    {
        get => _heads;
        init => _heads = AtLeastOne(value, nameof(Heads));
    }

    /// <summary>The number of transformer blocks, at least 1 (default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Layers
    {
        get => _layers;
        init => _layers = AtLeastOne(value, nameof(Layers));
    }

    /// <summary>The hidden width of each block's GELU MLP, at least 1 (default <c>4 · Width</c>, following Vaswani et al. and GPT-2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FeedForwardWidth
    {
        get => _feedForwardWidth ?? checked(4 * _width);
        init => _feedForwardWidth = AtLeastOne(value, nameof(FeedForwardWidth));
    }

    /// <summary>The dropout probability in <c>[0, 1)</c> applied to the embedding output and each residual branch in training mode (default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or outside <c>[0, 1)</c>.</exception>
    public double Dropout
    {
        get => _dropout;
        init
        {
            if (!(value >= 0 && value < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(Dropout), value, "must be in [0, 1)");
            }

            _dropout = value;
        }
    }

    /// <summary>
    /// Whether the output head reuses the token embedding matrix (<c>logits = h · Eᵀ</c>, no bias; Press &amp; Wolf,
    /// arXiv 1608.05859) instead of its own <c>Linear(Width → VocabSize)</c> with bias (default <see langword="true"/>).
    /// </summary>
    public bool TiedOutputHead { get; init; } = true;

    /// <summary>Checks the rule that joins two properties: <see cref="Width"/> is divisible by <see cref="Heads"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Width"/> is not a multiple of <see cref="Heads"/> (ParamName <c>Width</c>).</exception>
    public void Validate()
    {
        if (_width % _heads != 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Width), _width, $"must be divisible by Heads ({_heads})");
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
}

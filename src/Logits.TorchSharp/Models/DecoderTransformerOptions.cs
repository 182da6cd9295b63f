
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
    private readonly int? _feedForwardWidth;

    /// <summary>V, the vocabulary size (the number of token ids and the length of every logit row), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int VocabSize { get; init => field = Require.AtLeast(value, 1, nameof(VocabSize)); } = 1;

    /// <summary>The longest sequence the model accepts (the number of learned positions), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int MaxSequenceLength { get; init => field = Require.AtLeast(value, 1, nameof(MaxSequenceLength)); } = 1;

    /// <summary>d, the model width (embedding and hidden-state size), at least 1 and divisible by <see cref="Heads"/> (default 64).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Width { get; init => field = Require.AtLeast(value, 1, nameof(Width)); } = 64;

    /// <summary>The number of attention heads, at least 1; each head has width <c>Width / Heads</c> (default 4).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Heads { get; init => field = Require.AtLeast(value, 1, nameof(Heads)); } = 4;

    /// <summary>The number of transformer blocks, at least 1 (default 2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int Layers { get; init => field = Require.AtLeast(value, 1, nameof(Layers)); } = 2;

    /// <summary>The hidden width of each block's GELU MLP, at least 1 (default <c>4 · Width</c>, following Vaswani et al. and GPT-2).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FeedForwardWidth
    {
        get => _feedForwardWidth ?? checked(4 * Width);
        init => _feedForwardWidth = Require.AtLeast(value, 1, nameof(FeedForwardWidth));
    }

    /// <summary>The dropout probability in <c>[0, 1)</c> applied to the embedding output and each residual branch in training mode (default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is NaN or outside <c>[0, 1)</c>.</exception>
    public double Dropout { get; init => field = Require.FractionBelowOne(value, nameof(Dropout)); }

    /// <summary>
    /// Whether the output head reuses the token embedding matrix (<c>logits = h · Eᵀ</c>, no bias; Press &amp; Wolf,
    /// arXiv 1608.05859) instead of its own <c>Linear(Width → VocabSize)</c> with bias (default <see langword="true"/>).
    /// </summary>
    public bool TiedOutputHead { get; init; } = true;

    /// <summary>Checks the rule that joins two properties: <see cref="Width"/> is divisible by <see cref="Heads"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Width"/> is not a multiple of <see cref="Heads"/> (ParamName <c>Width</c>).</exception>
    public void Validate()
    {
        if (Width % Heads != 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Width), Width, $"must be divisible by Heads ({Heads})");
        }
    }
}

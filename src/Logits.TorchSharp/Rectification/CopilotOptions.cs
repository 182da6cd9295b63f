
namespace Logits.TorchSharp.Rectification;

/// <summary>The shape of a <see cref="CopilotDecoder"/>.</summary>
/// <remarks>
/// Every property is validated when it is set (<see cref="ArgumentOutOfRangeException"/> naming the property);
/// the cross-property rule "<see cref="Heads"/> divides <see cref="Width"/>" is checked by
/// <see cref="CopilotDecoder.Create"/>. <see cref="VocabSize"/> and <see cref="PilotWidth"/> are taken from the Pilot.
/// </remarks>
public sealed class CopilotOptions
{
    private readonly int? _feedForwardWidth;

    /// <summary>V, the vocabulary size shared with the Pilot, at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int VocabSize { get; init => field = Require.AtLeast(value, 1, nameof(VocabSize)); }

    /// <summary>d_P, the Pilot's width (embedding output and hidden states), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int PilotWidth { get; init => field = Require.AtLeast(value, 1, nameof(PilotWidth)); }

    /// <summary>d, the Copilot width, at least 1 and divisible by <see cref="Heads"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int Width { get; init => field = Require.AtLeast(value, 1, nameof(Width)); }

    /// <summary>N_C, the number of layers, at least 1 (at least 2 with <see cref="CopilotLayerLayout.Alternating"/>, so
    /// that one layer cross-attends; checked by <see cref="CopilotDecoder.Create"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int Layers { get; init => field = Require.AtLeast(value, 1, nameof(Layers)); }

    /// <summary>Where the Copilot reads the Pilot's memory (default <see cref="CopilotLayerLayout.CrossAttentionInEveryLayer"/>,
    /// the paper's layout: every layer has causal self-attention, then cross-attention, then the feed-forward block).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An undefined value.</exception>
    public CopilotLayerLayout Layout { get; init => field = Require.Defined(value, nameof(Layout)); } = CopilotLayerLayout.CrossAttentionInEveryLayer;

    /// <summary>The number of attention heads, at least 1; it divides <see cref="Width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public required int Heads { get; init => field = Require.AtLeast(value, 1, nameof(Heads)); }

    /// <summary>The hidden width of the GELU feed-forward blocks, at least 1 (default <c>4 · Width</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int FeedForwardWidth
    {
        get => _feedForwardWidth ?? (4 * Width);
        init => _feedForwardWidth = Require.AtLeast(value, 1, nameof(FeedForwardWidth));
    }

    /// <summary>The dropout probability on attention and feed-forward outputs in training, in <c>[0, 1)</c> (default 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is outside <c>[0, 1)</c>.</exception>
    public double Dropout { get; init => field = Require.FractionBelowOne(value, nameof(Dropout)); }

    /// <summary>Checks the cross-property rules.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="Heads"/> does not divide <see cref="Width"/>, or the
    /// alternating layout has fewer than 2 layers.</exception>
    internal void Validate()
    {
        if (Layout == CopilotLayerLayout.Alternating && Layers < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Layers), Layers, "must be at least 2 with the Alternating layout (layer 2 is the first cross-attention layer)");
        }

        if (Width % Heads != 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(Heads), Heads, $"must divide Width ({Width})");
        }
    }
}

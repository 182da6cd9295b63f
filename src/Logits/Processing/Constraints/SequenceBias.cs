
namespace Logits.Processing.Constraints;

/// <summary>One entry of <see cref="SequenceBiasProcessor"/>: a token sequence and the bias added to its last token.</summary>
/// <remarks>
/// For a sequence <c>s_1 … s_L</c>: <c>L = 1</c> biases <c>s_1</c> at every step; <c>L &gt; 1</c> biases
/// <c>s_L</c> only when the history ends with <c>s_1 … s_(L-1)</c> (docs/algorithms/constraints.md#sequence-bias).
/// </remarks>
public sealed class SequenceBias
{
    private readonly int[] _tokens;

    /// <summary>Creates an entry.</summary>
    /// <param name="tokens">The sequence, at least one id, every id ≥ 0; copied.</param>
    /// <param name="bias">Finite (within float32 range, since it is added to float32 logits), or <c>-∞</c> to ban the
    /// last token after the prefix.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokens"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tokens"/> is empty or holds a negative id.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bias"/> is NaN, <c>+∞</c>, or finite beyond float32's range.</exception>
    public SequenceBias(IEnumerable<int> tokens, double bias)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = new List<int>(tokens).ToArray();
        if (_tokens.Length == 0)
        {
            ThrowHelper.ThrowArgument(nameof(tokens), "must hold at least one token id (an empty sequence has no token to bias).");
        }

        foreach (int id in _tokens)
        {
            if (id < 0)
            {
                ThrowHelper.ThrowArgument(nameof(tokens), $"holds the negative token id {id}; token ids are at least 0.");
            }
        }

        if (!LogitBiasProcessor.IsValidBias(bias))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(bias), bias, "must be finite within float32 range, or -infinity");
        }

        Bias = bias;
    }

    /// <summary>The sequence; the last token is the one biased.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>The bias added to the last token when the prefix matches.</summary>
    public double Bias { get; }

    /// <summary>The sequence as a span, for the matcher.</summary>
    internal ReadOnlySpan<int> Span => _tokens;
}

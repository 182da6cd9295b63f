using Logits.Processing;

namespace Logits.LLamaSharp.Sampling;

/// <summary>
/// The token history a llama.cpp-facing sampler keeps for its processors: the prompt, then every committed token,
/// in one growable buffer that <see cref="SamplingContext"/> reads without copying.
/// </summary>
internal sealed class TokenHistory
{
    private int[] _tokens;

    public TokenHistory(int capacity = 256) => _tokens = new int[Math.Max(16, capacity)];

    private TokenHistory(TokenHistory source)
    {
        _tokens = (int[])source._tokens.Clone();
        Length = source.Length;
        PromptLength = source.PromptLength;
    }

    /// <summary>Prompt plus committed tokens.</summary>
    public int Length { get; private set; }

    /// <summary>How many leading tokens are the prompt.</summary>
    public int PromptLength { get; private set; }

    public ReadOnlyMemory<int> Tokens => _tokens.AsMemory(0, Length);

    /// <summary>Replaces the prompt and forgets every committed token.</summary>
    public void SetPrompt(ReadOnlySpan<int> prompt, int vocabSize = int.MaxValue)
    {
        for (int i = 0; i < prompt.Length; i++)
        {
            if ((uint)prompt[i] >= (uint)vocabSize)
            {
                throw new ArgumentException($"The prompt holds the id {prompt[i]} at position {i}, outside the vocabulary [0, {vocabSize}).", nameof(prompt));
            }
        }

        EnsureCapacity(prompt.Length);
        prompt.CopyTo(_tokens);
        Length = prompt.Length;
        PromptLength = prompt.Length;
    }

    /// <summary>Makes room for <paramref name="capacity"/> tokens without a later allocation.</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > _tokens.Length)
        {
            Array.Resize(ref _tokens, Math.Max(capacity, _tokens.Length * 2));
        }
    }

    public void Append(int token)
    {
        if (Length == _tokens.Length)
        {
            EnsureCapacity(Length + 1);
        }

        _tokens[Length++] = token;
    }

    /// <summary>Forgets the committed tokens; keeps the prompt.</summary>
    public void ResetToPrompt() => Length = PromptLength;

    public void Update(SamplingContext context) => context.SetHistory(Tokens, PromptLength);

    public TokenHistory Clone() => new(this);

    public static int[] ToIds(IReadOnlyList<LLama.Native.LLamaToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var ids = new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = (int)tokens[i];
        }

        return ids;
    }
}

using System;
using System.Collections.Generic;
using Logits.LLamaSharp.Gguf;

namespace Logits.Samples.Demo.TinyLlama;

/// <summary>
/// A character-level SentencePiece vocabulary for <see cref="TinyCorpus"/>: one piece per character (the space as "▁"),
/// so llama.cpp's tokenizer, which can only merge pairs into existing pieces, maps each character to its own token, and
/// anything else falls back to byte tokens.
/// </summary>
public sealed class CharacterVocabulary
{
    private readonly Dictionary<char, int> _ids = new();

    /// <summary>Creates the vocabulary of "▁" and <see cref="TinyCorpus.Alphabet"/>.</summary>
    public CharacterVocabulary()
    {
        var pieces = new List<string> { SpmVocabulary.SpaceMarker };
        foreach (char c in TinyCorpus.Alphabet)
        {
            pieces.Add(c.ToString());
        }

        Spm = new SpmVocabulary(pieces);
        _ids[' '] = SpmVocabulary.FirstPieceId;
        for (int i = 0; i < TinyCorpus.Alphabet.Length; i++)
        {
            _ids[TinyCorpus.Alphabet[i]] = SpmVocabulary.FirstPieceId + 1 + i;
        }
    }

    /// <summary>The GGUF vocabulary (specials, 256 byte tokens, then the characters).</summary>
    public SpmVocabulary Spm { get; }

    /// <summary>The number of tokens.</summary>
    public int Count => Spm.Count;

    /// <summary>
    /// Tokenizes as llama.cpp does for this vocabulary: BOS, then "▁" (llama.cpp's added space prefix), then one token per
    /// character, spaces as "▁".
    /// </summary>
    /// <param name="text">Text over <see cref="TinyCorpus.Alphabet"/> and spaces.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentException">The text holds a character outside the vocabulary.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length + 2];
        ids[0] = SpmVocabulary.BosId;
        ids[1] = _ids[' '];
        for (int i = 0; i < text.Length; i++)
        {
            ids[i + 2] = _ids.TryGetValue(text[i], out int id)
                ? id
                : throw new ArgumentException($"The character '{text[i]}' at index {i} is not in the vocabulary.", nameof(text));
        }

        return ids;
    }
}

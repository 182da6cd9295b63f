using System;
using System.Collections.Generic;
using System.Text;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>
/// The character-level vocabulary of the arithmetic task: padding, an end token, the ten digits and <c>+ - =</c>.
/// </summary>
/// <remarks>
/// Ids: <c>0</c> padding (written <c>_</c>), <c>1</c> end of answer (written <c>$</c>), <c>2…11</c> the digits
/// <c>0…9</c>, <c>12</c> <c>+</c>, <c>13</c> <c>-</c>, <c>14</c> <c>=</c>. Every character has exactly one id, so
/// <c>Decode(Encode(s)) == s</c> for any string over the alphabet <c>_$0123456789+-=</c>.
/// </remarks>
public static class CharTokenizer
{
    /// <summary>The characters, indexed by id.</summary>
    public const string Alphabet = "_$0123456789+-=";

    /// <summary>The padding id (never a target, and harmless as right padding under causal attention).</summary>
    public const int Pad = 0;

    /// <summary>The end-of-answer id: generation stops when the model emits it.</summary>
    public const int End = 1;

    /// <summary>The vocabulary size V.</summary>
    public const int VocabSize = 15;

    /// <summary>The id of one character.</summary>
    /// <param name="c">A character of <see cref="Alphabet"/>.</param>
    /// <returns>Its id.</returns>
    /// <exception cref="ArgumentException"><paramref name="c"/> is not in the alphabet.</exception>
    public static int Id(char c)
    {
        int id = Alphabet.IndexOf(c, StringComparison.Ordinal);
        if (id < 0)
        {
            throw new ArgumentException($"'{c}' is not in the alphabet \"{Alphabet}\".", nameof(c));
        }

        return id;
    }

    /// <summary>Encodes a string character by character.</summary>
    /// <param name="text">Characters of <see cref="Alphabet"/>.</param>
    /// <returns>The ids.</returns>
    /// <exception cref="ArgumentException">A character is not in the alphabet.</exception>
    public static int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            ids[i] = Id(text[i]);
        }

        return ids;
    }

    /// <summary>Decodes ids back to their characters.</summary>
    /// <param name="ids">Ids in <c>[0, VocabSize)</c>.</param>
    /// <returns>The string.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public static string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)Alphabet.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Ids must be in [0, {Alphabet.Length}).");
            }

            text.Append(Alphabet[id]);
        }

        return text.ToString();
    }
}

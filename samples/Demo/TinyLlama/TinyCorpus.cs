using System;
using System.Text;

namespace Logits.Samples.Demo.TinyLlama;

/// <summary>
/// A generated English-like corpus (a small probabilistic grammar), so the tour trains without downloading anything:
/// sentences such as "the small cat chases a red ball in the garden." with animal-specific verbs, so a model has to
/// remember the subject to continue well.
/// </summary>
public static class TinyCorpus
{
    /// <summary>Every character the grammar writes (besides the space, which the vocabulary writes as "▁").</summary>
    public const string Alphabet = "abcdefghijklmnopqrstuvwxyz.,";

    private static readonly string[] Adjectives = { "small", "big", "red", "old", "happy", "quiet", "brown", "young" };
    private static readonly string[] Places = { "in the garden", "by the river", "near the house", "under the tree", "on the hill", "at night" };
    private static readonly string[] Things = { "ball", "bone", "fish", "stick", "hat", "apple", "box", "song" };

    private static readonly (string Animal, string[] Verbs)[] Animals =
    {
        ("cat", new[] { "chases", "watches", "ignores", "sleeps near" }),
        ("dog", new[] { "fetches", "buries", "barks at", "guards" }),
        ("bird", new[] { "sings to", "pecks", "carries", "looks at" }),
        ("fox", new[] { "steals", "hides", "sniffs", "finds" }),
    };

    /// <summary>Appends sentences to <paramref name="text"/> until it holds at least <paramref name="minimumLength"/> characters.</summary>
    /// <param name="random">The random source (seed it for a reproducible corpus).</param>
    /// <param name="text">Receives the sentences, separated by single spaces.</param>
    /// <param name="minimumLength">The length to reach.</param>
    public static void Append(Random random, StringBuilder text, int minimumLength)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(text);
        while (text.Length < minimumLength)
        {
            if (text.Length > 0)
            {
                text.Append(' ');
            }

            text.Append(Sentence(random));
        }
    }

    /// <summary>One sentence, for example "the old dog buries a bone by the river."</summary>
    /// <param name="random">The random source.</param>
    /// <returns>The sentence, ending with a full stop.</returns>
    public static string Sentence(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (animal, verbs) = Animals[random.Next(Animals.Length)];
        var sentence = new StringBuilder("the ");
        if (random.Next(2) == 0)
        {
            sentence.Append(Adjectives[random.Next(Adjectives.Length)]).Append(' ');
        }

        sentence.Append(animal).Append(' ').Append(verbs[random.Next(verbs.Length)]).Append(random.Next(2) == 0 ? " a " : " the ");
        sentence.Append(Things[random.Next(Things.Length)]);
        if (random.Next(3) > 0)
        {
            sentence.Append(' ').Append(Places[random.Next(Places.Length)]);
        }

        if (random.Next(4) == 0)
        {
            sentence.Append(", and the ").Append(animal).Append(" rests");
        }

        return sentence.Append('.').ToString();
    }
}

using Logits.Randomness;

namespace Logits.Processing.Guidance;

/// <summary>
/// STEER's running pool of negative examples: the real dataset's examples plus every completed generation,
/// from which each sample's negative prompt is drawn (seeded, without replacement).
/// </summary>
/// <remarks>
/// <para>O'Neill et al., arXiv 2308.07645; docs/algorithms/guidance.md#negative-prompt-pool. The pool starts with the real examples and grows
/// (unbounded, text only) as each generated sample completes, so later samples are pushed away from earlier
/// generations too.</para>
/// <para>Drawing (library decision): <see cref="NumNegativePrompts"/> examples uniformly at random
/// <b>without replacement</b> by a partial Fisher–Yates shuffle driven by the pool's
/// <see cref="IRandomSource"/> (xoshiro256** from a seed by default); if the pool holds fewer, all of them in
/// random order. They are joined with <see cref="Separator"/> (default a single space). Draw once per sample
/// and keep the prompt for every step of it; for a batch use <see cref="DrawNegativePrompts"/> and
/// <see cref="Add"/> the completed rows only after they finish, so rows of one batch never see each other
/// (library decision). The pool holds no tokenizer: truncating a long prompt from the left to fit the context is the
/// caller's step.</para>
/// <para>Stateful and not thread-safe: <see cref="Clone"/> gives an independent copy (contents and random
/// position); <see cref="Reset"/> returns to the initial examples and the initial random position.</para>
/// </remarks>
public sealed class NegativePromptPool
{
    /// <summary>The default number of examples joined into one negative prompt (the authors' final pipeline).</summary>
    public const int DefaultNumNegativePrompts = 10;

    /// <summary>The default separator: a single space.</summary>
    public const string DefaultSeparator = " ";

    private readonly List<string> _examples;
    private readonly string[] _initialExamples;
    private readonly IRandomSource _initialRandom;
    private IRandomSource _random;

    /// <summary>Creates a pool with a seeded xoshiro256** stream.</summary>
    /// <param name="examples">The real dataset's examples (may be empty; none may be null).</param>
    /// <param name="seed">The seed of the drawing stream.</param>
    /// <param name="numNegativePrompts">How many examples form one negative prompt, at least 1.</param>
    /// <param name="separator">The text between joined examples; not null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="examples"/> or <paramref name="separator"/> is null.</exception>
    /// <exception cref="ArgumentException">An example is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numNegativePrompts"/> is below 1.</exception>
    public NegativePromptPool(IEnumerable<string> examples, ulong seed, int numNegativePrompts = DefaultNumNegativePrompts, string separator = DefaultSeparator)
        : this(examples, new Xoshiro256StarStar(seed), numNegativePrompts, separator)
    {
    }

    /// <summary>Creates a pool with an injected random source (the pool keeps a clone for <see cref="Reset"/>).</summary>
    /// <param name="examples">The real dataset's examples (may be empty; none may be null).</param>
    /// <param name="random">The drawing stream; the pool owns it from now on.</param>
    /// <param name="numNegativePrompts">How many examples form one negative prompt, at least 1.</param>
    /// <param name="separator">The text between joined examples; not null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="examples"/>, <paramref name="random"/> or <paramref name="separator"/> is null.</exception>
    /// <exception cref="ArgumentException">An example is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numNegativePrompts"/> is below 1.</exception>
    public NegativePromptPool(IEnumerable<string> examples, IRandomSource random, int numNegativePrompts = DefaultNumNegativePrompts, string separator = DefaultSeparator)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(separator);
        if (numNegativePrompts < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(numNegativePrompts), numNegativePrompts, "must be at least 1");
        }

        _examples = new List<string>();
        foreach (string example in examples)
        {
            if (example is null)
            {
                ThrowHelper.ThrowArgument(nameof(examples), "holds a null example.");
            }

            _examples.Add(example);
        }

        _initialExamples = _examples.ToArray();
        _initialRandom = random.Clone();
        _random = random;
        NumNegativePrompts = numNegativePrompts;
        Separator = separator;
    }

    private NegativePromptPool(NegativePromptPool source)
    {
        _examples = new List<string>(source._examples);
        _initialExamples = source._initialExamples;
        _initialRandom = source._initialRandom.Clone();
        _random = source._random.Clone();
        NumNegativePrompts = source.NumNegativePrompts;
        Separator = source.Separator;
    }

    /// <summary>How many examples form one negative prompt.</summary>
    public int NumNegativePrompts { get; }

    /// <summary>The text between joined examples.</summary>
    public string Separator { get; }

    /// <summary>The number of examples in the pool.</summary>
    public int Count => _examples.Count;

    /// <summary>The examples, real ones first, then completed generations in completion order.</summary>
    public IReadOnlyList<string> Examples => _examples;

    /// <summary>Appends a completed generated example; later draws may pick it.</summary>
    /// <param name="example">The decoded sample.</param>
    /// <exception cref="ArgumentNullException"><paramref name="example"/> is null.</exception>
    public void Add(string example)
    {
        ArgumentNullException.ThrowIfNull(example);
        _examples.Add(example);
    }

    /// <summary>Draws the examples of one negative prompt: <c>min(NumNegativePrompts, Count)</c> distinct entries in random order.</summary>
    /// <returns>The drawn examples.</returns>
    /// <exception cref="InvalidOperationException">The pool is empty.</exception>
    public IReadOnlyList<string> DrawExamples()
    {
        int count = _examples.Count;
        if (count == 0)
        {
            throw new InvalidOperationException("The negative-prompt pool is empty: add real examples before generating with eta > 0.");
        }

        int take = Math.Min(NumNegativePrompts, count);
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        var drawn = new string[take];
        for (int j = 0; j < take; j++)
        {
            // Partial Fisher-Yates: a uniform pick among the not yet drawn positions j..count-1.
            int pick = j + (int)(_random.NextDouble() * (count - j));
            (order[j], order[pick]) = (order[pick], order[j]);
            drawn[j] = _examples[order[j]];
        }

        return drawn;
    }

    /// <summary>Draws one negative prompt: the drawn examples joined with <see cref="Separator"/>.</summary>
    /// <returns>The negative prompt <c>x_neg</c>.</returns>
    /// <exception cref="InvalidOperationException">The pool is empty.</exception>
    public string DrawNegativePrompt() => string.Join(Separator, DrawExamples());

    /// <summary>Draws one negative prompt per row of a batch, all from the pool as it is now.</summary>
    /// <param name="rows">The number of rows, at least 1.</param>
    /// <returns>One negative prompt per row.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The pool is empty.</exception>
    public string[] DrawNegativePrompts(int rows)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), rows, "must be at least 1");
        }

        var prompts = new string[rows];
        for (int r = 0; r < rows; r++)
        {
            prompts[r] = DrawNegativePrompt();
        }

        return prompts;
    }

    /// <summary>Returns to the construction state: the initial examples and the initial random position.</summary>
    public void Reset()
    {
        _examples.Clear();
        _examples.AddRange(_initialExamples);
        _random = _initialRandom.Clone();
    }

    /// <summary>A deep copy of the current state; the copy and this pool then evolve independently.</summary>
    /// <returns>The copy.</returns>
    public NegativePromptPool Clone() => new(this);
}

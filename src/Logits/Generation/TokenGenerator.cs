using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Logits.Pipelines;
using Logits.Processing;

namespace Logits.Generation;

/// <summary>
/// Ties a language model, a pipeline and stop rules together and streams the generated tokens.
/// </summary>
/// <remarks>
/// <para>Each step asks the model for the next-token logits of prompt ‖ output, runs the pipeline
/// (processors and selector) and appends the token. Generation stops after
/// <see cref="GenerationOptions.MaxNewTokens"/> tokens, on an EOS id (not yielded), or when the output
/// ends with a stop sequence (not yielded: tokens that could begin one are held back until they cannot).</para>
/// <para>Every generation starts by resetting the pipeline, so a seeded pipeline gives the same tokens for
/// the same prompt every time. A generator is not thread-safe (its pipeline holds state); use one per
/// concurrent generation.</para>
/// <para>The token history grows with the output (doubling from the prompt plus at most
/// <see cref="InitialOutputCapacity"/> tokens), so a huge <see cref="GenerationOptions.MaxNewTokens"/> costs
/// nothing until tokens are generated. The model's batch is checked every step: one whose shape is not
/// <c>[1, VocabSize]</c> throws <see cref="InvalidOperationException"/> instead of yielding ids outside the
/// vocabulary.</para>
/// </remarks>
public sealed class TokenGenerator
{
    /// <summary>The output room reserved before the first token; the history doubles when it is full.</summary>
    private const int InitialOutputCapacity = 256;

    private readonly ILanguageModel _model;
    private readonly LogitPipeline _pipeline;
    private readonly GenerationOptions _options;

    /// <summary>Creates a generator.</summary>
    /// <param name="model">The model.</param>
    /// <param name="pipeline">The sampling pipeline (processors and selector).</param>
    /// <param name="options">Stop rules; defaults to 256 new tokens and no EOS or stop sequences.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="pipeline"/> is null.</exception>
    /// <exception cref="ArgumentException">The model's vocabulary size is below 1, or an EOS id or a stop sequence
    /// holds an id outside the model's vocabulary (it could never be sampled).</exception>
    public TokenGenerator(ILanguageModel model, LogitPipeline pipeline, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pipeline);
        _model = model;
        _pipeline = pipeline;
        _options = options ?? new GenerationOptions();
        int vocab = model.VocabSize;
        if (vocab < 1)
        {
            ThrowHelper.ThrowArgument(nameof(model), $"reports VocabSize {vocab}; a model needs at least one token.");
        }

        foreach (int id in _options.EosTokenIds)
        {
            if (id >= vocab)
            {
                ThrowHelper.ThrowArgument(nameof(options), $"EosTokenIds holds the id {id}, outside the model's vocabulary [0, {vocab}); it could never end generation.");
            }
        }

        for (int s = 0; s < _options.StopSequences.Count; s++)
        {
            foreach (int id in _options.StopSequences[s])
            {
                if (id >= vocab)
                {
                    ThrowHelper.ThrowArgument(nameof(options), $"StopSequences[{s}] holds the id {id}, outside the model's vocabulary [0, {vocab}); it could never match.");
                }
            }
        }
    }

    /// <summary>Why the last generation ended (<see cref="StopReason.None"/> while running or after cancellation).</summary>
    public StopReason LastStopReason { get; private set; }

    /// <summary>Streams the generated tokens.</summary>
    /// <param name="prompt">The prompt tokens (at least one; ids below the model's vocabulary size).</param>
    /// <param name="cancellationToken">Stops generation between tokens with <see cref="OperationCanceledException"/>.</param>
    /// <returns>The tokens, as they become final.</returns>
    /// <exception cref="ArgumentException">The prompt is empty or holds an id outside the vocabulary.</exception>
    public async IAsyncEnumerable<int> GenerateAsync(IReadOnlyList<int> prompt, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Let the caller's continuation run before the first (synchronous) model call.
        await Task.Yield();
        foreach (int token in Run(prompt, cancellationToken))
        {
            yield return token;
        }
    }

    /// <summary>Generates to the end and returns the tokens with the stop reason.</summary>
    /// <param name="prompt">The prompt tokens.</param>
    /// <param name="cancellationToken">Stops generation between tokens.</param>
    /// <returns>The tokens and why generation ended.</returns>
    public GenerationResult Generate(IReadOnlyList<int> prompt, CancellationToken cancellationToken = default)
    {
        var tokens = new List<int>();
        foreach (int token in Run(prompt, cancellationToken))
        {
            tokens.Add(token);
        }

        return new GenerationResult(tokens, LastStopReason);
    }

    private IEnumerable<int> Run(IReadOnlyList<int> prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Count == 0)
        {
            ThrowHelper.ThrowArgument(nameof(prompt), "must hold at least one token.");
        }

        var history = new int[(int)Math.Min((long)prompt.Count + Math.Min(_options.MaxNewTokens, InitialOutputCapacity), Array.MaxLength)];
        for (int i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)_model.VocabSize)
            {
                ThrowHelper.ThrowArgument(nameof(prompt), $"holds the id {prompt[i]} at position {i}, outside the vocabulary [0, {_model.VocabSize}).");
            }

            history[i] = prompt[i];
        }

        LastStopReason = StopReason.None;
        _pipeline.Reset();
        var context = new SamplingContext(0, _options.EosTokenIds);
        var contexts = new[] { context };
        var modelContexts = new ReadOnlyMemory<int>[1];
        int length = prompt.Count;
        int emitted = prompt.Count;
        using var logits = _model.CreateLogitBatch(1);
        var token = new int[1];
        for (int step = 0; step < _options.MaxNewTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RequireModelBatch(logits);
            modelContexts[0] = history.AsMemory(0, length);
            _model.NextTokenLogits(modelContexts, logits);
            RequireModelBatch(logits);
            context.SetHistory(history.AsMemory(0, length), prompt.Count);
            _pipeline.Sample(logits, contexts, token);
            if (IsEos(token[0]))
            {
                LastStopReason = StopReason.EndOfSequence;
                break;
            }

            if (length == history.Length)
            {
                history = Grow(history);
            }

            history[length++] = token[0];
            int stopLength = MatchedStopLength(history, prompt.Count, length);
            if (stopLength > 0)
            {
                length -= stopLength;
                LastStopReason = StopReason.StopSequence;
                break;
            }

            // Emit what can no longer become part of a stop sequence.
            int safe = length - PendingLength(history, Math.Max(emitted, prompt.Count), length);
            while (emitted < safe)
            {
                yield return history[emitted++];
            }
        }

        if (LastStopReason == StopReason.None)
        {
            LastStopReason = StopReason.MaxNewTokens;
        }

        while (emitted < length)
        {
            yield return history[emitted++];
        }
    }

    /// <summary>The model's batch must be <c>[1, VocabSize]</c>, or sampled ids would fall outside the vocabulary.</summary>
    private void RequireModelBatch(LogitBatch? logits)
    {
        if (logits is null || logits.Rows != 1 || logits.Vocab != _model.VocabSize)
        {
            ThrowModelBatch(logits);
        }
    }

    [DoesNotReturn]
    private void ThrowModelBatch(LogitBatch? logits) =>
        throw new InvalidOperationException(logits is null
            ? $"The model ({_model.GetType().Name}) returned no batch from CreateLogitBatch(1)."
            : $"The model ({_model.GetType().Name}) gave a [{logits.Rows}, {logits.Vocab}] logit batch but its VocabSize is {_model.VocabSize}; a batch of [1, {_model.VocabSize}] is required.");

    /// <summary>Doubles the history (it grows with the output, not with the token budget).</summary>
    private static int[] Grow(int[] history)
    {
        long size = Math.Min(Math.Max(2L * history.Length, 16), Array.MaxLength);
        if (size <= history.Length)
        {
            throw new InvalidOperationException($"The token history reached {history.Length} tokens, the largest array .NET allows.");
        }

        var grown = new int[size];
        history.CopyTo(grown, 0);
        return grown;
    }

    private bool IsEos(int token)
    {
        foreach (int id in _options.EosTokenIds)
        {
            if (id == token)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The length of a stop sequence the output ends with, or 0.</summary>
    private int MatchedStopLength(int[] history, int start, int length)
    {
        foreach (var stop in _options.StopSequences)
        {
            if (stop.Count <= length - start && EndsWith(history, length, stop, stop.Count))
            {
                return stop.Count;
            }
        }

        return 0;
    }

    /// <summary>The longest output suffix (after <paramref name="from"/>) that is a proper prefix of a stop sequence.</summary>
    private int PendingLength(int[] history, int from, int length)
    {
        int longest = 0;
        foreach (var stop in _options.StopSequences)
        {
            for (int n = Math.Min(stop.Count - 1, length - from); n > longest; n--)
            {
                if (EndsWith(history, length, stop, n))
                {
                    longest = n;
                    break;
                }
            }
        }

        return longest;
    }

    /// <summary>Whether history[..length] ends with the first <paramref name="count"/> ids of <paramref name="stop"/>.</summary>
    private static bool EndsWith(int[] history, int length, IReadOnlyList<int> stop, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (history[length - count + i] != stop[i])
            {
                return false;
            }
        }

        return true;
    }
}

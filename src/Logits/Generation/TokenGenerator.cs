using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
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
/// </remarks>
public sealed class TokenGenerator
{
    private readonly ILanguageModel _model;
    private readonly LogitPipeline _pipeline;
    private readonly GenerationOptions _options;

    /// <summary>Creates a generator.</summary>
    /// <param name="model">The model.</param>
    /// <param name="pipeline">The sampling pipeline (processors and selector).</param>
    /// <param name="options">Stop rules; defaults to 256 new tokens and no EOS or stop sequences.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="pipeline"/> is null.</exception>
    public TokenGenerator(ILanguageModel model, LogitPipeline pipeline, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pipeline);
        _model = model;
        _pipeline = pipeline;
        _options = options ?? new GenerationOptions();
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

        var history = new int[prompt.Count + _options.MaxNewTokens];
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
            modelContexts[0] = history.AsMemory(0, length);
            _model.NextTokenLogits(modelContexts, logits);
            context.SetHistory(history.AsMemory(0, length), prompt.Count);
            _pipeline.Sample(logits, contexts, token);
            if (IsEos(token[0]))
            {
                LastStopReason = StopReason.EndOfSequence;
                break;
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

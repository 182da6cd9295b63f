using LLama.Native;
using Logits.Processing;

namespace Logits.LLamaSharp.Sampling;

/// <summary>
/// Logits processors as one stage of a llama.cpp sampler chain (<c>SafeLLamaSamplerChainHandle.AddCustom</c>), before
/// or between llama.cpp's own samplers.
/// </summary>
/// <remarks>
/// <para><b>Mapping.</b> llama.cpp passes <c>(id, logit, p)</c> candidates that earlier stages may have truncated and
/// sorted, and no vocabulary size. The stage writes them into a full row of <see cref="VocabSize"/> logits (ids that
/// are absent count as removed, <c>-∞</c>), runs the processors, and writes the new logits back. Candidates the
/// processors removed are dropped (the array shrinks, keeping its order); the <c>sorted</c> flag stays set only if the
/// array arrived sorted and the kept logits are still in descending order; <c>selected</c> is cleared. The <c>p</c>
/// fields are left as they were: llama.cpp's samplers recompute probabilities when they need them.</para>
/// <para><b>History.</b> The chain calls <see cref="Accept"/> with every token it commits (<c>llama_sampler_sample</c>
/// does so); set the prompt with <see cref="SetPrompt"/> so that prompt-scope processors see it.</para>
/// <para><b>Errors.</b> An exception must not cross llama.cpp's native frames (it would end the process), so an
/// exception inside <see cref="Apply"/> or <see cref="Accept"/> is caught and kept in <see cref="Fault"/>, and the
/// candidates are left exactly as they arrived. Call <see cref="ThrowIfFaulted"/> after each sample (or use
/// <see cref="SamplerChainExtensions.Sample(SafeLLamaSamplerChainHandle, SafeLLamaContextHandle, int, LogitsChainStage)"/>,
/// which does): a processor that rejects its input, or removes every candidate, surfaces there.</para>
/// <para>The stage is owned by the chain once added: llama.cpp disposes it when the chain is freed, and clones it (with
/// its stateful processors) when the chain is cloned.</para>
/// </remarks>
public sealed class LogitsChainStage : ICustomSampler
{
    private readonly CandidateRow _row;
    private readonly TokenHistory _history;

    /// <summary>Creates the stage.</summary>
    /// <param name="vocabSize">The model's vocabulary size (<c>model.Vocab.Count</c>), at least 1.</param>
    /// <param name="processors">The processors, run in this order; stateful ones are owned by the stage.</param>
    /// <param name="name">The stage's name in llama.cpp's chain (default <c>"logits"</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The processor list holds null.</exception>
    public LogitsChainStage(int vocabSize, IEnumerable<ILogitProcessor> processors, string name = "logits")
        : this(vocabSize, ToArray(processors), name, new TokenHistory())
    {
    }

    private LogitsChainStage(int vocabSize, ILogitProcessor[] processors, string name, TokenHistory history)
    {
        if (vocabSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "The vocabulary size must be at least 1.");
        }

        ArgumentException.ThrowIfNullOrEmpty(name);
        VocabSize = vocabSize;
        Name = name;
        _row = new CandidateRow(processors);
        _history = history;
    }

    /// <summary>The vocabulary size of the full rows the processors see.</summary>
    public int VocabSize { get; }

    /// <summary>The end-of-sequence ids the processors read (min length, min new tokens, forced EOS, ...); none until
    /// <see cref="SetEndOfSequence"/> is called.</summary>
    public IReadOnlyList<int> EosTokenIds => _row.Context.EosTokenIds;

    /// <summary>Sets the end-of-sequence ids the processors read, for example the model's EOS and EOT tokens.</summary>
    /// <param name="eosTokenIds">The ids, each in <c>[0, VocabSize)</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    /// <exception cref="ArgumentException">An id is negative.</exception>
    public void SetEndOfSequence(IEnumerable<int> eosTokenIds)
    {
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        var ids = new List<int>(eosTokenIds);
        foreach (int id in ids)
        {
            if (id >= VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(eosTokenIds), id, $"An end-of-sequence id must be below the vocabulary size {VocabSize}.");
            }
        }

        _row.SetEndOfSequence(ids);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The processors, in order.</summary>
    public IReadOnlyList<ILogitProcessor> Processors => _row.Processors;

    /// <summary>The history the processors see: the prompt, then every accepted token.</summary>
    public ReadOnlyMemory<int> History => _history.Tokens;

    /// <summary>The first exception raised inside the stage since the last <see cref="ThrowIfFaulted"/> or <see cref="Reset"/>, or null.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>How many times <see cref="Apply"/> ran.</summary>
    public long ApplyCount { get; private set; }

    /// <summary>Sets the prompt and forgets the accepted tokens.</summary>
    /// <param name="prompt">The prompt's token ids, each in <c>[0, VocabSize)</c>.</param>
    /// <exception cref="ArgumentException">An id is outside the vocabulary.</exception>
    public void SetPrompt(ReadOnlySpan<int> prompt) => _history.SetPrompt(prompt, VocabSize);

    /// <summary>Processes the candidates in place (called by llama.cpp).</summary>
    /// <param name="tokenData">The candidate array.</param>
    public void Apply(ref LLamaTokenDataArrayNative tokenData)
    {
        ApplyCount++;
        if (Fault is not null)
        {
            // After a failure the stage stays out of the way until the caller has seen the error.
            return;
        }

        try
        {
            _history.Update(_row.Context);
            int kept = _row.Apply(tokenData.Data, VocabSize, tokenData.Sorted, compact: true, out bool stillSorted);
            tokenData.Size = (ulong)kept;
            tokenData.Sorted = stillSorted;
            tokenData.Selected = -1;
        }
#pragma warning disable CA1031 // An exception must not unwind through llama.cpp's native frames; it is kept and rethrown by ThrowIfFaulted.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fault = e;
        }
    }

    /// <summary>Appends a committed token to the history and tells stateful processors (called by llama.cpp).</summary>
    /// <param name="token">The token.</param>
    public void Accept(LLamaToken token)
    {
        try
        {
            int id = (int)token;
            if ((uint)id >= (uint)VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(token), id, $"The accepted token is outside the vocabulary [0, {VocabSize}).");
            }

            _history.Append(id);
            foreach (var processor in _row.Processors)
            {
                (processor as IStatefulSampler)?.Accept(0, id);
            }
        }
#pragma warning disable CA1031 // See Apply.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fault ??= e;
        }
    }

    /// <summary>Forgets the accepted tokens (the prompt stays), resets stateful processors and clears <see cref="Fault"/>.</summary>
    public void Reset()
    {
        _history.ResetToPrompt();
        foreach (var processor in _row.Processors)
        {
            (processor as IStatefulSampler)?.Reset();
        }

        Fault = null;
    }

    /// <summary>Rethrows the exception kept by <see cref="Apply"/> or <see cref="Accept"/>, if any, and clears it.</summary>
    /// <exception cref="LogitsChainStageException">The stage failed; the inner exception is the processor's.</exception>
    public void ThrowIfFaulted()
    {
        if (Fault is { } fault)
        {
            Fault = null;
            throw new LogitsChainStageException($"The Logits stage '{Name}' failed inside llama.cpp's sampler chain: {fault.Message}", fault);
        }
    }

    /// <inheritdoc />
    public ICustomSampler Clone()
    {
        var processors = new ILogitProcessor[_row.Processors.Count];
        for (int i = 0; i < processors.Length; i++)
        {
            var processor = _row.Processors[i];
            processors[i] = processor is IStatefulSampler stateful ? (ILogitProcessor)stateful.Clone() : processor;
        }

        var clone = new LogitsChainStage(VocabSize, processors, Name, _history.Clone());
        clone._row.SetEndOfSequence(EosTokenIds);
        return clone;
    }

    /// <summary>Releases the row buffer (llama.cpp calls it when the chain is freed).</summary>
    public void Dispose() => _row.Dispose();

    private static ILogitProcessor[] ToArray(IEnumerable<ILogitProcessor> processors)
    {
        ArgumentNullException.ThrowIfNull(processors);
        var list = new List<ILogitProcessor>();
        foreach (var processor in processors)
        {
            list.Add(processor ?? throw new ArgumentException("The processor list holds null.", nameof(processors)));
        }

        return list.ToArray();
    }
}

using LLama;
using LLama.Native;
using LLama.Sampling;
using Logits.Pipelines;
using Logits.Processing;

namespace Logits.LLamaSharp.Sampling;

/// <summary>
/// LLamaSharp's <see cref="ISamplingPipeline"/> backed by a Logits <see cref="LogitPipeline"/>: every executor,
/// <c>Conversation.Sample</c> and the executor chat client sample with Logits' processors and selectors.
/// </summary>
/// <remarks>
/// <para><b>Per token.</b> <see cref="Sample"/> copies the row of <c>llama_get_logits_ith(index)</c> once into a reused
/// one-row <see cref="CpuLogitBatch"/>, runs the pipeline (processors, then the selector) and returns the token. After
/// the first call (which sizes the buffers: the history holds the context size) nothing is allocated per token.</para>
/// <para><b>Accepting.</b> LLamaSharp's executors never call <see cref="Accept"/> after sampling, so, like llama.cpp's
/// <c>llama_sampler_sample</c>, <see cref="Sample"/> commits its own token: it is appended to the history and every
/// stateful step (mirostat, DRY, XTC, seeded selectors) is told. <see cref="Accept"/> is for tokens that enter the
/// sequence from elsewhere (a token the application forces, user input in a chat); calling it after
/// <see cref="Sample"/> for the sampled token would count that token twice.</para>
/// <para><b>The prompt.</b> <see cref="ISamplingPipeline"/> never sees the prompt, so processors whose scope includes
/// it (repetition and frequency/presence penalties with a prompt scope, DRY, no-repeat n-grams) would miss it. Give it
/// with <see cref="SetPrompt(ReadOnlySpan{int})"/> (or the tokenizing overload) before generating; the history is then
/// prompt ‖ committed tokens, and <see cref="SamplingContext.PromptLength"/> marks the boundary.</para>
/// <para><b>Reset and clone.</b> <see cref="Reset"/> (called by <c>StatelessExecutor</c> at the start of every
/// <c>InferAsync</c>) forgets the committed tokens, keeps the prompt, and returns every stateful step to its
/// construction state, so a seeded pipeline repeats its tokens. <see cref="Clone"/> gives an independent copy of the
/// current state (stateful steps cloned, history copied), for a forked conversation.</para>
/// <para>Not thread-safe: one instance per generating sequence.</para>
/// </remarks>
public sealed class LogitsSamplingPipeline : ISamplingPipeline
{
    private readonly TokenHistory _history;
    private SamplingContext _context = new();
    private CandidateRow? _candidates;
    private CpuLogitBatch? _batch;
    private bool _disposed;

    /// <summary>Creates the sampling pipeline.</summary>
    /// <param name="pipeline">The Logits pipeline (processors and selector); owned by this instance from now on
    /// (its stateful steps are reset and advanced here).</param>
    public LogitsSamplingPipeline(LogitPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        Pipeline = pipeline;
        _history = new TokenHistory();
    }

    private LogitsSamplingPipeline(LogitPipeline pipeline, TokenHistory history)
    {
        Pipeline = pipeline;
        _history = history;
    }

    /// <summary>The Logits pipeline that samples.</summary>
    public LogitPipeline Pipeline { get; }

    /// <summary>The history the processors see: the prompt, then every committed token.</summary>
    public ReadOnlyMemory<int> History => _history.Tokens;

    /// <summary>How many leading <see cref="History"/> tokens are the prompt.</summary>
    public int PromptLength => _history.PromptLength;

    /// <summary>The last token <see cref="Sample"/> returned, or -1 before the first.</summary>
    public int LastToken { get; private set; } = -1;

    /// <summary>Sets the prompt and forgets the committed tokens.</summary>
    /// <param name="prompt">The prompt's token ids (as the executor will decode them).</param>
    public void SetPrompt(ReadOnlySpan<int> prompt)
    {
        ThrowIfDisposed();
        foreach (int id in prompt)
        {
            if (id < 0)
            {
                throw new ArgumentException($"The prompt holds the negative id {id}.", nameof(prompt));
            }
        }

        _history.SetPrompt(prompt);
    }

    /// <summary>Sets the prompt from LLamaSharp tokens and forgets the committed tokens.</summary>
    /// <param name="prompt">The prompt's tokens.</param>
    public void SetPrompt(IReadOnlyList<LLamaToken> prompt) => SetPrompt(TokenHistory.ToIds(prompt));

    /// <summary>Tokenizes <paramref name="prompt"/> as LLamaSharp's executors do and sets it as the prompt.</summary>
    /// <param name="context">The context whose tokenizer to use.</param>
    /// <param name="prompt">The prompt text.</param>
    /// <param name="addBos">Add the beginning-of-sequence token (the executors do).</param>
    /// <param name="special">Parse special-token text such as <c>&lt;s&gt;</c> (the executors do).</param>
    public void SetPrompt(LLamaContext context, string prompt, bool addBos = true, bool special = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(prompt);
        SetPrompt(context.Tokenize(prompt, addBos, special));
    }

    /// <summary>Tokenizes <paramref name="prompt"/> with the model's tokenizer as LLamaSharp's executors do (BOS added,
    /// special-token text parsed, UTF-8) and sets it as the prompt; for <c>StatelessExecutor</c>, which makes its context
    /// inside <c>InferAsync</c>.</summary>
    /// <param name="weights">The model.</param>
    /// <param name="prompt">The prompt text.</param>
    public void SetPrompt(LLamaWeights weights, string prompt)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(prompt);
        SetPrompt(weights.Tokenize(prompt, true, true, System.Text.Encoding.UTF8));
    }

    /// <summary>Samples the next token from the logits at <paramref name="index"/> of the last decoded batch, and commits it.</summary>
    /// <param name="ctx">The context that decoded the batch.</param>
    /// <param name="index">The batch index whose logits to sample (LLamaSharp's executors pass the last one).</param>
    /// <returns>The token.</returns>
    /// <exception cref="LLama.Exceptions.GetLogitsInvalidIndexException">The batch did not request logits at <paramref name="index"/>.</exception>
    /// <exception cref="InvalidLogitsException">The model produced NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">The processors removed every token.</exception>
    public LLamaToken Sample(SafeLLamaContextHandle ctx, int index)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(ctx);
        var logits = ctx.GetLogitsIth(index);
        if (_batch is null || _batch.Vocab != logits.Length)
        {
            _batch?.Dispose();
            _batch = new CpuLogitBatch(1, logits.Length);

            // The model's EOS / EOT ids, for the processors that read them (min new tokens, forced EOS, ...).
            _context = new SamplingContext(0, CandidateRow.EndOfGeneration(ctx.Vocab));

            // Room for a whole context, so committing tokens does not allocate.
            _history.EnsureCapacity(checked((int)ctx.ContextSize + 1));
        }

        // One pass: the copy also checks the row and finds its maximum, which the pipeline then does not redo.
        _batch.CopyRowFrom(0, logits);
        _history.Update(_context);
        int token = Pipeline.Sample(_batch, _context);
        _history.Append(token);
        LastToken = token;
        return token;
    }

    /// <summary>
    /// Runs the pipeline's processors (not its selector) on a candidate array in place: removed candidates get
    /// <c>-∞</c> and the array keeps its length.
    /// </summary>
    /// <param name="ctx">The context (for the vocabulary size).</param>
    /// <param name="data">The candidates, possibly truncated; ids must lie in the vocabulary.</param>
    /// <remarks>The array's <c>Sorted</c> flag belongs to the caller's copy of the struct and cannot be updated
    /// here: treat the result as unsorted.</remarks>
    /// <exception cref="ArgumentException">A candidate id is outside the vocabulary.</exception>
    /// <exception cref="NoViableTokenException">The processors removed every candidate.</exception>
    public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(ctx);
        if (_candidates is null)
        {
            _candidates = new CandidateRow(ProcessorArray());
            _candidates.SetEndOfSequence(CandidateRow.EndOfGeneration(ctx.Vocab));
        }

        _history.Update(_candidates.Context);
        _candidates.Apply(data.Data.Span, ctx.Vocab.Count, data.Sorted, compact: false, out _);
    }

    /// <summary>Commits a token that entered the sequence without <see cref="Sample"/> (forced, or user input).</summary>
    /// <param name="token">The token.</param>
    public void Accept(LLamaToken token)
    {
        ThrowIfDisposed();
        int id = (int)token;
        if (id < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(token), id, "A token id must not be negative.");
        }

        _history.Append(id);
        foreach (var processor in Pipeline.Processors)
        {
            (processor as IStatefulSampler)?.Accept(0, id);
        }

        (Pipeline.Selector as IStatefulSampler)?.Accept(0, id);
    }

    /// <summary>Forgets the committed tokens (the prompt stays) and resets every stateful step.</summary>
    public void Reset()
    {
        ThrowIfDisposed();
        _history.ResetToPrompt();
        Pipeline.Reset();
        LastToken = -1;
    }

    /// <summary>An independent copy of the current state: stateful steps cloned, the history copied.</summary>
    /// <returns>The copy.</returns>
    public LogitsSamplingPipeline Clone()
    {
        ThrowIfDisposed();
        return new LogitsSamplingPipeline(Pipeline.Clone(), _history.Clone()) { LastToken = LastToken };
    }

    /// <summary>Releases the buffers.</summary>
    public void Dispose()
    {
        _disposed = true;
        _batch?.Dispose();
        _batch = null;
        _candidates?.Dispose();
        _candidates = null;
    }

    private ILogitProcessor[] ProcessorArray()
    {
        var processors = new ILogitProcessor[Pipeline.Processors.Count];
        for (int i = 0; i < processors.Length; i++)
        {
            processors[i] = Pipeline.Processors[i];
        }

        return processors;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

using LLama;
using LLama.Abstractions;
using LLama.Native;
using Logits.Generation;
using Logits.Processing;

namespace Logits.LLamaSharp.Models;

/// <summary>
/// A Logits <see cref="ILanguageModel"/> over a llama.cpp context, so <see cref="TokenGenerator"/> and every processor
/// drive a real model: several rows are several llama.cpp sequences decoded in one batch, and each sequence's KV cache
/// is reused between calls (only the tokens after the longest common prefix are decoded).
/// </summary>
/// <remarks>
/// <para><b>Rows and sequences.</b> Row <c>r</c> of <see cref="NextTokenLogits"/> is llama.cpp sequence <c>r</c>. The
/// context must be created with <c>SeqMax</c> at least the number of rows plus the sequences reserved by
/// <see cref="CreateGuidance(IReadOnlyList{IReadOnlyList{int}})"/> (classifier-free guidance and STEER negative prompts,
/// taken from the top of the range). With llama.cpp's default (non-unified) KV cache each sequence gets
/// <c>ContextSize / SeqMax</c> cells.</para>
/// <para><b>KV-cache reuse.</b> For each row the model keeps the tokens its sequence holds. A call compares them with
/// the row's context, removes the cells after the longest common prefix (<c>llama_memory_seq_rm</c>) and decodes the
/// rest; when the context is entirely cached, its last token is decoded again to get its logits. Incremental
/// generation therefore decodes one token per row per step, and a changed earlier token re-decodes from that point.
/// The result equals a fresh decode of the whole context up to llama.cpp's floating-point batching differences.</para>
/// <para><b>Batches.</b> All rows' new tokens (and the prefetched guidance sequences) go into one <c>llama_decode</c>,
/// split only where the context's batch size requires; logits are requested only for each row's last token.</para>
/// <para>Not thread-safe. The model owns the KV cache of its sequences: do not decode into them elsewhere (call
/// <see cref="ResetCache"/> if something else did).</para>
/// </remarks>
public sealed class LlamaLanguageModel : ILanguageModel, IDisposable
{
    private readonly bool _ownsContext;
    private readonly List<int>[] _cached;
    private readonly LLamaBatch _batch = new();
    private readonly List<Request> _requests = new();
    private readonly List<(int BatchIndex, Memory<float> Target)> _outputs = new();
    private readonly List<LlamaGuidance> _guidances = new();
    private int _reservedFrom;
    private readonly HostLogitRows _hostRows;
    private bool _disposed;

    /// <summary>Creates a context for <paramref name="weights"/> and a model over it (the model owns the context).</summary>
    /// <param name="weights">The loaded model weights.</param>
    /// <param name="parameters">Context parameters; <c>SeqMax</c> bounds the rows plus guidance sequences.</param>
    public LlamaLanguageModel(LLamaWeights weights, IContextParams parameters)
        : this(CreateContext(weights, parameters), ownsContext: true)
    {
    }

    /// <summary>Creates a model over an existing context.</summary>
    /// <param name="context">The context; its KV cache is cleared and then managed by this model.</param>
    /// <param name="ownsContext">Dispose the context with the model.</param>
    public LlamaLanguageModel(LLamaContext context, bool ownsContext = false)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        _ownsContext = ownsContext;
        VocabSize = context.Vocab.Count;
        _hostRows = new HostLogitRows(VocabSize);
        SequenceCapacity = (int)Math.Max(1u, context.Params.SeqMax);
        _reservedFrom = SequenceCapacity;
        _cached = new List<int>[SequenceCapacity];
        for (int i = 0; i < _cached.Length; i++)
        {
            _cached[i] = new List<int>();
        }

        context.NativeHandle.MemoryClear();
    }

    /// <summary>The llama.cpp context.</summary>
    public LLamaContext Context { get; }

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <summary>The number of llama.cpp sequences the context holds (its <c>SeqMax</c>).</summary>
    public int SequenceCapacity { get; }

    /// <summary>The most rows <see cref="NextTokenLogits"/> accepts: the sequences not reserved for guidance.</summary>
    public int MaxRows => _reservedFrom;

    /// <summary>The number of <c>llama_decode</c> calls made so far.</summary>
    public long DecodeCalls { get; private set; }

    /// <summary>The number of tokens decoded so far (a measure of KV-cache reuse).</summary>
    public long DecodedTokens { get; private set; }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1 or above <see cref="MaxRows"/>.</exception>
    public LogitBatch CreateLogitBatch(int rows)
    {
        ThrowIfDisposed();
        CheckRows(rows, nameof(rows));
        return new CpuLogitBatch(rows, VocabSize);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A context is empty or holds an id outside the vocabulary, or the destination's shape differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There are more contexts than <see cref="MaxRows"/>.</exception>
    /// <exception cref="InvalidOperationException">llama.cpp could not decode (for example the context is full).</exception>
    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(destination);
        CheckRows(contexts.Count, nameof(contexts));
        var host = _hostRows.Open(destination, contexts.Count, nameof(destination));
        _requests.Clear();
        for (int r = 0; r < contexts.Count; r++)
        {
            _requests.Add(new Request(r, contexts[r], host.Slice(r * VocabSize, VocabSize), r, "contexts"));
        }

        foreach (var guidance in _guidances)
        {
            guidance.AddPrefetchRequests(contexts, _requests);
        }

        Evaluate(_requests);
        _hostRows.Complete(destination);
    }

    /// <summary>
    /// Reserves one sequence per row for the unconditional branch of classifier-free guidance, or STEER's negative
    /// prompt: row <c>r</c>'s branch reads <c>negativePrompts[r]</c> followed by the tokens row <c>r</c> generated.
    /// </summary>
    /// <param name="negativePrompts">One negative (or empty-prompt) token list per row, each non-empty (start it with
    /// BOS as the main prompt does).</param>
    /// <returns>The provider, for <c>ClassifierFreeGuidanceProcessor</c> or as the negative <see cref="ILogitSource"/> of
    /// <c>SteerProcessor</c>.</returns>
    /// <exception cref="ArgumentException">A prompt is empty or holds an id outside the vocabulary.</exception>
    /// <exception cref="InvalidOperationException">The context has too few free sequences.</exception>
    public LlamaGuidance CreateGuidance(IReadOnlyList<IReadOnlyList<int>> negativePrompts)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(negativePrompts);
        if (negativePrompts.Count == 0)
        {
            throw new ArgumentException("At least one negative prompt (one per row) is needed.", nameof(negativePrompts));
        }

        var prompts = new int[negativePrompts.Count][];
        for (int r = 0; r < prompts.Length; r++)
        {
            var prompt = negativePrompts[r] ?? throw new ArgumentException($"The negative prompt of row {r} is null.", nameof(negativePrompts));
            if (prompt.Count == 0)
            {
                throw new ArgumentException($"The negative prompt of row {r} is empty; start it with BOS at least.", nameof(negativePrompts));
            }

            prompts[r] = new int[prompt.Count];
            for (int i = 0; i < prompt.Count; i++)
            {
                if ((uint)prompt[i] >= (uint)VocabSize)
                {
                    throw new ArgumentException($"The negative prompt of row {r} holds the id {prompt[i]} at position {i}, outside the vocabulary [0, {VocabSize}).", nameof(negativePrompts));
                }

                prompts[r][i] = prompt[i];
            }
        }

        int first = _reservedFrom - prompts.Length;
        if (first < 1)
        {
            throw new InvalidOperationException(
                $"Guidance for {prompts.Length} row(s) needs {prompts.Length} free sequence(s) besides at least one generating row; the context has SeqMax = {SequenceCapacity} and {SequenceCapacity - _reservedFrom} already reserved. Create the context with a larger SeqMax.");
        }

        _reservedFrom = first;
        var guidance = new LlamaGuidance(this, first, prompts);
        _guidances.Add(guidance);
        return guidance;
    }

    /// <summary>Reserves a guidance sequence for a single-row generation from a negative prompt's text.</summary>
    /// <param name="negativePrompt">The negative prompt text (may be empty: the unconditional branch then reads BOS and the generated tokens).</param>
    /// <param name="addBos">Start with BOS (as the executors tokenize prompts).</param>
    /// <returns>The provider.</returns>
    public LlamaGuidance CreateGuidance(string negativePrompt, bool addBos = true)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(negativePrompt);
        return CreateGuidance(new IReadOnlyList<int>[] { Tokenize(negativePrompt, addBos) });
    }

    /// <summary>
    /// This model as an <see cref="ILogitSource"/> on each row's whole history (prompt and generated tokens): for example
    /// STEER's base model beside an expert that generates.
    /// </summary>
    /// <returns>The source.</returns>
    public ILogitSource AsLogitSource() => new HistorySource(this);

    /// <summary>Tokenizes text with the model's tokenizer (special-token text is parsed, as the executors do).</summary>
    /// <param name="text">The text.</param>
    /// <param name="addBos">Start with BOS.</param>
    /// <returns>The token ids.</returns>
    public int[] Tokenize(string text, bool addBos = true)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(text);
        return Sampling.TokenHistory.ToIds(Context.Tokenize(text, addBos, special: true));
    }

    /// <summary>Clears the KV cache of every sequence (the next call decodes every context from the start).</summary>
    public void ResetCache()
    {
        ThrowIfDisposed();
        Context.NativeHandle.MemoryClear();
        foreach (var cached in _cached)
        {
            cached.Clear();
        }
    }

    /// <summary>Disposes the context if the model owns it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsContext)
        {
            Context.Dispose();
        }
    }

    /// <summary>Decodes what each request's sequence lacks and copies the logits of each request's last token to its target.</summary>
    internal void Evaluate(List<Request> requests)
    {
        ThrowIfDisposed();
        int batchLimit = (int)Context.BatchSize;
        _batch.Clear();
        _outputs.Clear();
        try
        {
            foreach (var request in requests)
            {
                var tokens = request.Tokens.Span;
                if (tokens.Length == 0)
                {
                    throw new ArgumentException($"Row {request.Row} is empty; a context needs at least one token.", request.ParameterName);
                }

                var cached = _cached[request.Sequence];
                int common = 0;
                int limit = Math.Min(cached.Count, tokens.Length);
                while (common < limit && cached[common] == tokens[common])
                {
                    common++;
                }

                // The cached prefix was checked when it was decoded; only the rest can hold a bad id.
                for (int i = common; i < tokens.Length; i++)
                {
                    if ((uint)tokens[i] >= (uint)VocabSize)
                    {
                        throw new ArgumentException($"Row {request.Row} holds the id {tokens[i]} at position {i}, outside the vocabulary [0, {VocabSize}).", request.ParameterName);
                    }
                }

                // A fully cached context still needs its last token decoded for the logits.
                if (common == tokens.Length)
                {
                    common--;
                }

                if (common < cached.Count)
                {
                    Context.NativeHandle.MemorySequenceRemove((LLamaSeqId)request.Sequence, common, -1);
                    cached.RemoveRange(common, cached.Count - common);
                }

                for (int i = common; i < tokens.Length; i++)
                {
                    if (_batch.TokenCount == batchLimit)
                    {
                        Flush();
                    }

                    bool last = i == tokens.Length - 1;
                    int index = _batch.Add(tokens[i], i, (LLamaSeqId)request.Sequence, last);
                    cached.Add(tokens[i]);
                    if (last)
                    {
                        _outputs.Add((index, request.Target));
                    }
                }
            }

            Flush();
        }
        catch
        {
            // The cache bookkeeping may be ahead of what llama.cpp holds: start from scratch next time.
            ResetCache();
            _batch.Clear();
            _outputs.Clear();
            throw;
        }
    }

    private void Flush()
    {
        if (_batch.TokenCount == 0)
        {
            return;
        }

        var result = Context.NativeHandle.Decode(_batch);
        DecodeCalls++;
        DecodedTokens += _batch.TokenCount;
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException(
                $"llama_decode returned {result} for {_batch.TokenCount} tokens (context size {Context.ContextSize} shared by {SequenceCapacity} sequence(s)); a sequence may be longer than its share of the context.");
        }

        foreach (var (batchIndex, target) in _outputs)
        {
            Context.NativeHandle.GetLogitsIth(batchIndex).CopyTo(target.Span);
        }

        _outputs.Clear();
        _batch.Clear();
    }

    private void CheckRows(int rows, string parameterName)
    {
        if (rows < 1 || rows > _reservedFrom)
        {
            throw new ArgumentOutOfRangeException(
                parameterName,
                rows,
                $"The model takes 1 to {_reservedFrom} rows: the context has SeqMax = {SequenceCapacity}, {SequenceCapacity - _reservedFrom} reserved for guidance.");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static LLamaContext CreateContext(LLamaWeights weights, IContextParams parameters)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(parameters);
        return weights.CreateContext(parameters);
    }

    /// <summary>One sequence to bring up to date, and where its last token's logits go.</summary>
    internal readonly record struct Request(int Sequence, ReadOnlyMemory<int> Tokens, Memory<float> Target, int Row, string ParameterName);

    /// <summary>The model on each row's whole history.</summary>
    private sealed class HistorySource : ILogitSource
    {
        private readonly LlamaLanguageModel _model;

        public HistorySource(LlamaLanguageModel model) => _model = model;

        public void FillLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
        {
            ArgumentNullException.ThrowIfNull(contexts);
            var histories = new ReadOnlyMemory<int>[contexts.Count];
            for (int r = 0; r < histories.Length; r++)
            {
                histories[r] = contexts[r].History;
            }

            _model.NextTokenLogits(histories, destination);
        }
    }
}

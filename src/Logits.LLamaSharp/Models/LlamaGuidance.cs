using Logits.Generation;
using Logits.Processing;
using Logits.Processing.Guidance;

namespace Logits.LLamaSharp.Models;

/// <summary>
/// The second branch of classifier-free guidance or STEER's negative prompt, run on extra sequences of the generating
/// model's own llama.cpp context: row <c>r</c>'s branch reads its negative prompt followed by the tokens row <c>r</c>
/// has generated.
/// </summary>
/// <remarks>
/// <para>Created by <see cref="LlamaLanguageModel.CreateGuidance(IReadOnlyList{IReadOnlyList{int}})"/>. Pass it to
/// <c>ClassifierFreeGuidanceProcessor</c> (as the unconditional provider) or to <c>SteerProcessor</c> (as the negative
/// source).</para>
/// <para><b>One batch per step.</b> When the generator asks the model for the next-token logits, the model also
/// decodes each branch's predicted next state (its negative prompt followed by the row's tokens after the prompt
/// length seen at the previous step) in the same <c>llama_decode</c>. When the processor then asks for the branch's
/// logits, they are used only if the branch's actual tokens equal the prediction; otherwise the branch is decoded
/// there and then. The first step of a generation (prompt length not yet seen) therefore takes a second decode, and
/// every later step none. <see cref="PrefetchHits"/> and <see cref="PrefetchMisses"/> count both cases.</para>
/// </remarks>
public sealed class LlamaGuidance : IUnconditionalLogitsProvider, ILogitSource
{
    private readonly LlamaLanguageModel _model;
    private readonly int[][] _negativePrompts;
    private readonly BranchTokens[] _predicted;
    private readonly bool[] _predictionValid;
    private readonly float[][] _prefetched;
    private readonly int[] _lastPromptLength;
    private readonly BranchTokens[] _actual;
    private readonly List<LlamaLanguageModel.Request> _requests = new();
    private readonly HostLogitRows _host;

    internal LlamaGuidance(LlamaLanguageModel model, int firstSequence, int[][] negativePrompts)
    {
        _model = model;
        _host = new HostLogitRows(model.VocabSize);
        FirstSequence = firstSequence;
        _negativePrompts = negativePrompts;
        int rows = negativePrompts.Length;
        _predicted = new BranchTokens[rows];
        _actual = new BranchTokens[rows];
        _predictionValid = new bool[rows];
        _prefetched = new float[rows][];
        _lastPromptLength = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            _predicted[r] = new BranchTokens();
            _actual[r] = new BranchTokens();
            _prefetched[r] = new float[model.VocabSize];
            _lastPromptLength[r] = -1;
        }
    }

    /// <summary>The number of rows (one negative prompt and one llama.cpp sequence each).</summary>
    public int Rows => _negativePrompts.Length;

    /// <summary>The llama.cpp sequence of row 0; row <c>r</c> uses <c>FirstSequence + r</c>.</summary>
    public int FirstSequence { get; }

    /// <summary>The negative prompts, one per row.</summary>
    public IReadOnlyList<IReadOnlyList<int>> NegativePrompts => _negativePrompts;

    /// <summary>Branch rows served from the decode shared with the generating rows.</summary>
    public long PrefetchHits { get; private set; }

    /// <summary>Branch rows that needed a decode of their own (first steps, or a prediction that did not hold).</summary>
    public long PrefetchMisses { get; private set; }

    /// <inheritdoc />
    public void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination) => Fill(contexts, destination);

    /// <inheritdoc />
    public void FillLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination) => Fill(contexts, destination);

    /// <summary>Adds this branch's predicted next states to the model's decode of <paramref name="contexts"/>.</summary>
    internal void AddPrefetchRequests(IReadOnlyList<ReadOnlyMemory<int>> contexts, List<LlamaLanguageModel.Request> requests)
    {
        if (contexts.Count != Rows)
        {
            return;
        }

        for (int r = 0; r < Rows; r++)
        {
            _predictionValid[r] = false;
            int promptLength = _lastPromptLength[r];
            var context = contexts[r].Span;
            if (promptLength < 0 || promptLength > context.Length)
            {
                continue;
            }

            _predicted[r].Set(_negativePrompts[r], context[promptLength..]);
            _predictionValid[r] = true;
            requests.Add(new LlamaLanguageModel.Request(FirstSequence + r, _predicted[r].Tokens, _prefetched[r], r, "contexts"));
        }
    }

    private void Fill(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(destination);
        if (contexts.Count != Rows)
        {
            throw new ArgumentException($"The guidance was created for {Rows} row(s) but {contexts.Count} contexts were given.", nameof(contexts));
        }

        var host = _host.Open(destination, Rows, nameof(destination));
        _requests.Clear();
        for (int r = 0; r < Rows; r++)
        {
            var context = contexts[r] ?? throw new ArgumentException($"The context of row {r} is null.", nameof(contexts));
            var history = context.History.Span;
            var actual = _actual[r];
            actual.Set(_negativePrompts[r], history[context.PromptLength..]);
            _lastPromptLength[r] = context.PromptLength;
            var target = host.Slice(r * _model.VocabSize, _model.VocabSize);
            if (_predictionValid[r] && _predicted[r].Tokens.Span.SequenceEqual(actual.Tokens.Span))
            {
                _prefetched[r].CopyTo(target);
                PrefetchHits++;
            }
            else
            {
                _requests.Add(new LlamaLanguageModel.Request(FirstSequence + r, actual.Tokens, target, r, "contexts"));
                PrefetchMisses++;
            }

            _predictionValid[r] = false;
        }

        if (_requests.Count > 0)
        {
            _model.Evaluate(_requests);
        }

        _host.Complete(destination);
    }

    /// <summary>A branch's tokens (negative prompt, then the row's generated tokens) in a buffer reused across steps.</summary>
    private sealed class BranchTokens
    {
        private int[] _buffer = new int[64];
        private int _length;

        public ReadOnlyMemory<int> Tokens => _buffer.AsMemory(0, _length);

        public void Set(ReadOnlySpan<int> prompt, ReadOnlySpan<int> generated)
        {
            _length = prompt.Length + generated.Length;
            if (_buffer.Length < _length)
            {
                _buffer = new int[Math.Max(_length, _buffer.Length * 2)];
            }

            prompt.CopyTo(_buffer);
            generated.CopyTo(_buffer.AsSpan(prompt.Length));
        }
    }
}

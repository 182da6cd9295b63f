using Logits.Generation;
using Logits.Processing;
using Logits.Processing.Rectification;
using Logits.TorchSharp.Models;

namespace Logits.TorchSharp.Rectification;

/// <summary>
/// Fused Transformer Copilot generation as an <see cref="ILanguageModel"/>: each call runs the Pilot, feeds the new
/// positions to the Copilot's <see cref="CopilotDecodeState"/>, and returns the Pilot's next-token logits; the
/// Copilot's correction <c>f^C_i</c> for the same step is exposed through <see cref="CorrectionSource"/>.
/// </summary>
/// <typeparam name="TPilot">The Pilot: a torch module with the <see cref="IPilotModel"/> forward.</typeparam>
/// <remarks>
/// <para>Paper Algorithm 2 (Zou et al., arXiv 2505.16270) Use it with a normal pipeline whose
/// <b>first</b> processor is <c>new CopilotRectificationProcessor(model.CorrectionSource, λ, mode)</c>; then any
/// processors and any selector follow, and <see cref="TokenGenerator"/> drives it like any model.</para>
/// <para>Per row and call: if the context extends the row's previous context, only the new positions are appended to
/// the Copilot memory; otherwise (first call, a different or shorter context, a new generation) the row starts a fresh
/// decoding state with <c>m</c> = the context length. The same context twice in a row is a re-query: the Pilot logits
/// are recomputed and the stored correction is kept. The Pilot runs in eval mode under <c>no_grad</c> on the
/// right-padded contexts; <see cref="IPilotModel"/> has no KV cache, so every call reprocesses each whole context
/// (the Copilot likewise reruns over its prefix, see <see cref="CopilotDecodeState"/>). Training flags are restored.</para>
/// <para><see cref="CorrectionSource"/> checks that the pipeline's context of each row has the length the state expects
/// (<c>m + i − 1</c>) and throws <see cref="InvalidOperationException"/> otherwise, so a correction is never applied to
/// another step's logits. Not thread-safe.</para>
/// </remarks>
public sealed class CopilotLanguageModel<TPilot> : ILanguageModel, IDisposable
    where TPilot : nn.Module, IPilotModel
{
    private readonly TPilot _pilot;
    private readonly CopilotDecoder _copilot;
    private readonly List<int[]?> _previous = new();

    /// <summary>Wraps a Pilot and its Copilot.</summary>
    /// <param name="pilot">The Pilot.</param>
    /// <param name="copilot">The Copilot, on the same device as the Pilot.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The Copilot's vocabulary or Pilot width differs from the Pilot's.</exception>
    public CopilotLanguageModel(TPilot pilot, CopilotDecoder copilot)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        ArgumentNullException.ThrowIfNull(copilot);
        copilot.CheckReads(pilot, nameof(copilot));

        _pilot = pilot;
        _copilot = copilot;
        State = new CopilotDecodeState(copilot);
        CorrectionSource = new Source(this);
    }

    /// <inheritdoc />
    public int VocabSize => _pilot.VocabSize;

    /// <summary>The Copilot decoding state (memory and corrections per row).</summary>
    public CopilotDecodeState State { get; }

    /// <summary>Writes each row's latest correction <c>f^C_i</c>; put it into a <see cref="CopilotRectificationProcessor"/>.</summary>
    public ILogitSource CorrectionSource { get; }

    /// <inheritdoc />
    public LogitBatch CreateLogitBatch(int rows) => new TorchLogitBatch(rows, VocabSize, PilotDevice);

    /// <summary>Forgets every row: the next call starts fresh decoding states.</summary>
    public void Reset()
    {
        State.ResetAll();
        _previous.Clear();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The row counts differ, a context is empty or too long, or holds an id outside the vocabulary.</exception>
    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(destination);
        int rows = contexts.Count;
        if (rows != destination.Rows || destination.Vocab != VocabSize)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"is [{destination.Rows}, {destination.Vocab}] but [{rows}, {VocabSize}] is required.");
        }

        int maxLength = 0;
        for (int r = 0; r < rows; r++)
        {
            var span = contexts[r].Span;
            if (span.Length < 1 || span.Length > _pilot.MaxSequenceLength)
            {
                ThrowHelper.ThrowArgument(nameof(contexts), $"row {r} has {span.Length} tokens but [1, {_pilot.MaxSequenceLength}] are accepted.");
            }

            foreach (int id in span)
            {
                if ((uint)id >= (uint)VocabSize)
                {
                    ThrowHelper.ThrowArgument(nameof(contexts), $"row {r} holds the id {id}, outside the vocabulary [0, {VocabSize}).");
                }
            }

            maxLength = Math.Max(maxLength, span.Length);
        }

        var tokens = new long[rows * maxLength];
        var last = new long[rows];
        var start = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var span = contexts[r].Span;
            for (int k = 0; k < span.Length; k++)
            {
                tokens[(r * maxLength) + k] = span[k];
            }

            last[r] = span.Length - 1;
            start[r] = NewPositionsStart(r, span);
        }

        using var evaluation = new EvaluationScope(_pilot);
        using var scope = NewDisposeScope();
        var device = PilotDevice;
        using var output = _pilot.Forward(tensor(tokens, new long[] { rows, maxLength }, device: device));
        var index = tensor(last, new long[] { rows, 1, 1 }, device: device).expand(rows, 1, VocabSize);
        var nextLogits = output.Logits.gather(1, index).squeeze(1).to_type(ScalarType.Float32);
        WriteLogits(nextLogits, destination);
        var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
        for (int r = 0; r < rows; r++)
        {
            int length = contexts[r].Length;
            if (start[r] < length)
            {
                State.Append(r, output.Embeddings[r].narrow(0, start[r], length - start[r]), pooled[r].narrow(0, start[r], length - start[r]));
            }

            SetPrevious(r, contexts[r].Span);
        }

        State.Step();
    }

    /// <inheritdoc />
    public void Dispose() => State.Dispose();

    private Device PilotDevice => _pilot.parameters().FirstOrDefault()?.device ?? CPU;

    private static void WriteLogits(Tensor nextLogits, LogitBatch destination)
    {
        if (destination is TorchLogitBatch torchBatch)
        {
            torchBatch.Tensor.copy_(nextLogits);
            return;
        }

        var host = nextLogits.cpu().contiguous();
        using var accessor = host.data<float>();
        var values = new float[destination.Length];
        accessor.CopyTo(values, 0, 0);
        destination.CopyFrom(values);
    }

    /// <summary>Where the row's new positions start; resets the row when the context does not extend the previous one.</summary>
    private int NewPositionsStart(int row, ReadOnlySpan<int> context)
    {
        var previous = row < _previous.Count ? _previous[row] : null;
        if (previous is not null && context.Length >= previous.Length && context[..previous.Length].SequenceEqual(previous))
        {
            return previous.Length;
        }

        State.Reset(row);
        return 0;
    }

    private void SetPrevious(int row, ReadOnlySpan<int> context)
    {
        while (_previous.Count <= row)
        {
            _previous.Add(null);
        }

        _previous[row] = context.ToArray();
    }

    /// <summary>The <see cref="ILogitSource"/> over the decoding state's latest corrections.</summary>
    private sealed class Source : ILogitSource
    {
        private readonly CopilotLanguageModel<TPilot> _owner;

        public Source(CopilotLanguageModel<TPilot> owner) => _owner = owner;

        public void FillLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
        {
            ArgumentNullException.ThrowIfNull(contexts);
            ArgumentNullException.ThrowIfNull(destination);
            var state = _owner.State;
            int vocab = state.VocabSize;
            if (destination.Vocab != vocab)
            {
                ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Vocab} columns but the Copilot's vocabulary is {vocab}.");
            }

            for (int c = 0; c < contexts.Count; c++)
            {
                int row = contexts[c].Row;
                int expected = row < state.Rows ? state.MemoryLength(row) : -1;
                if (expected < 0 || state.CorrectionCount(row) == 0 || contexts[c].History.Length != expected)
                {
                    throw new InvalidOperationException(
                        $"Row {row}: the Copilot state holds no correction for a context of {contexts[c].History.Length} tokens (it expects {expected}); call NextTokenLogits for the same contexts first.");
                }
            }

            if (destination is TorchLogitBatch torchBatch)
            {
                for (int c = 0; c < contexts.Count; c++)
                {
                    using var target = torchBatch.Tensor[c];
                    using var latest = state.LatestCorrection(contexts[c].Row);
                    target.copy_(latest);
                }

                return;
            }

            var values = new float[destination.Length];
            for (int c = 0; c < contexts.Count; c++)
            {
                state.CopyLatestCorrection(contexts[c].Row, values.AsSpan(c * vocab, vocab));
            }

            destination.CopyFrom(values);
        }
    }
}

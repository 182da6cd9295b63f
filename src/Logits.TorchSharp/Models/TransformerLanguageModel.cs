using Logits.Generation;

namespace Logits.TorchSharp.Models;

/// <summary>
/// Adapts a <see cref="DecoderTransformer"/> to <see cref="ILanguageModel"/>, so <see cref="TokenGenerator"/> and every
/// pipeline processor and selector run on it; the logits stay in torch tensors (<see cref="TorchLogitBatch"/>).
/// </summary>
/// <remarks>
/// <para>Each <see cref="NextTokenLogits"/> call right-pads the contexts to the longest one (pad id 0; causal attention
/// makes padding harmless, see <see cref="DecoderTransformer"/>), runs one forward pass under <c>no_grad</c> in evaluation
/// mode (dropout off; the module's previous mode is restored afterwards) and writes each row's logits at its last real
/// position into the destination.</para>
/// <para><b>No KV cache.</b> This is the simple path: every step recomputes the whole context, so generating n tokens
/// after an m-token prompt costs about <c>Σ (m + i)</c> position evaluations instead of <c>m + n</c>. The fused inference
/// of docs/algorithms/paper-methods.md#fused-inference uses a cache as an optimisation; for the small models this class targets the recomputation is cheap.</para>
/// <para>A context longer than <see cref="DecoderTransformer.MaxSequenceLength"/> is an error unless
/// <see cref="TruncateFromLeft"/> is set, in which case only its last <c>MaxSequenceLength</c> tokens are used (the
/// oldest tokens are forgotten; learned positions restart at 0 for the kept window).</para>
/// <para>Not thread-safe: it switches the module's training mode during a call.</para>
/// </remarks>
public sealed class TransformerLanguageModel : ILanguageModel
{
    private readonly DecoderTransformer _model;
    private readonly Device _device;

    /// <summary>Wraps a model that already lives on <paramref name="device"/>.</summary>
    /// <param name="model">The transformer (not owned: the caller disposes it).</param>
    /// <param name="device">The model's device, where token tensors and logit batches are created; <see langword="null"/> means the CPU.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public TransformerLanguageModel(DecoderTransformer model, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _device = device ?? CPU;
    }

    /// <summary>The wrapped transformer.</summary>
    public DecoderTransformer Model => _model;

    /// <summary>The device of the model, the token tensors and the batches from <see cref="CreateLogitBatch"/>.</summary>
    public Device Device => _device;

    /// <summary>
    /// When <see langword="true"/>, a context longer than <see cref="DecoderTransformer.MaxSequenceLength"/> is cut to its
    /// last <c>MaxSequenceLength</c> tokens; when <see langword="false"/> (default) it is an <see cref="ArgumentException"/>.
    /// </summary>
    public bool TruncateFromLeft { get; init; }

    /// <inheritdoc />
    public int VocabSize => _model.VocabSize;

    /// <inheritdoc />
    /// <returns>A zero-filled <see cref="TorchLogitBatch"/> on <see cref="Device"/>; the caller disposes it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.</exception>
    public LogitBatch CreateLogitBatch(int rows) => new TorchLogitBatch(rows, VocabSize, _device);

    /// <summary>Writes the next-token logits of each context into the matching row of <paramref name="destination"/>.</summary>
    /// <param name="contexts">One non-empty token sequence per row, ids in <c>[0, VocabSize)</c>, at most
    /// <see cref="DecoderTransformer.MaxSequenceLength"/> long unless <see cref="TruncateFromLeft"/> is set.</param>
    /// <param name="destination">A batch with one row per context and <see cref="VocabSize"/> columns: a
    /// <see cref="TorchLogitBatch"/> (filled on its device with one copy) or any other batch (filled through host memory).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The row counts or vocabulary sizes differ, or a context (named by its row) is
    /// empty or too long.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A context (named by its row) holds an id outside <c>[0, VocabSize)</c>.</exception>
    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(destination);
        int rows = contexts.Count;
        if (rows != destination.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Rows} rows but there are {rows} contexts.");
        }

        if (destination.Vocab != VocabSize)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Vocab} columns but the model's vocabulary size is {VocabSize}.");
        }

        int limit = _model.MaxSequenceLength;
        int width = 0;
        for (int row = 0; row < rows; row++)
        {
            int length = contexts[row].Length;
            if (length == 0)
            {
                ThrowHelper.ThrowArgument(nameof(contexts), $"row {row} is empty; every context needs at least one token.");
            }

            if (length > limit && !TruncateFromLeft)
            {
                ThrowHelper.ThrowArgument(nameof(contexts), $"row {row} has {length} tokens but the model accepts at most {limit} (set TruncateFromLeft to keep the last {limit}).");
            }

            width = Math.Max(width, Math.Min(length, limit));
        }

        var tokens = new long[(long)rows * width];
        var lastPositions = new long[rows];
        for (int row = 0; row < rows; row++)
        {
            var span = contexts[row].Span;
            if (span.Length > limit)
            {
                span = span[^limit..];
            }

            for (int k = 0; k < span.Length; k++)
            {
                int id = span[k];
                if ((uint)id >= (uint)VocabSize)
                {
                    throw new ArgumentOutOfRangeException(nameof(contexts), id, $"Row {row} holds the id {id} at position {k}, outside the vocabulary [0, {VocabSize}).");
                }

                tokens[((long)row * width) + k] = id;
            }

            lastPositions[row] = span.Length - 1;
        }

        using var evaluation = new EvaluationScope(_model);
        using var scope = NewDisposeScope();
        Tensor input = tensor(tokens, new long[] { rows, width }, device: _device);
        Tensor positions = tensor(lastPositions, device: _device);
        Tensor logits = _model.LogitsAt(input, positions);
        if (destination is TorchLogitBatch torchBatch)
        {
            torchBatch.Tensor.copy_(logits);
        }
        else
        {
            var host = new float[(long)rows * VocabSize];
            TorchHostReads.CopyTo(logits.to_type(ScalarType.Float32), host);
            destination.CopyFrom(host);
        }
    }
}

using System.Runtime.InteropServices;
using Logits.Generation;
using Logits.Processing;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Logits.OnnxRuntimeGenAI.Models;

/// <summary>
/// A Logits <see cref="ILanguageModel"/> over ONNX Runtime GenAI generators, so <see cref="TokenGenerator"/> and every
/// processor choose the tokens of an ONNX Runtime GenAI model: the model's last-token logits are read after each
/// forward pass, a Logits pipeline picks the token, and the token is fed back with <c>Generator.AppendTokens</c>.
/// </summary>
/// <remarks>
/// <para><b>Reading the logits.</b> The managed <c>Generator</c> of Microsoft.ML.OnnxRuntimeGenAI 0.20.0 has no
/// logits accessor (its native library exports <c>OgaGenerator_GetLogits</c>, but the managed class keeps the native
/// handle private). The model therefore reads the decoder's output tensor through the public
/// <c>Generator.GetOutput</c> (default name <c>"logits"</c>, shape <c>[1, new tokens, vocab]</c>) and copies its last
/// position: the same values the runtime's own search samples from (float16 outputs are widened to float32).</para>
/// <para><b>Rows.</b> Row <c>r</c> has its own batch-1 generator, created on first use, so rows may hold contexts of
/// different lengths and may diverge freely. The rows run one after another: the runtime's batched generator accepts
/// <c>AppendTokens</c> only once when the batch size is above 1 and then continues with its own search, so it cannot
/// take tokens chosen outside it.</para>
/// <para><b>KV-cache reuse.</b> For each row the model keeps the tokens its generator holds. A call compares them
/// with the row's context, rewinds the generator to the longest common prefix (<c>RewindTo</c>) and appends the
/// rest; a context that is entirely cached rewinds by one token and appends it again to get its logits. Incremental
/// generation therefore runs one token per row per step. When the new tokens times the vocabulary exceed 2^24 logits
/// (a long prompt), all but the last are appended first and the last on its own, so the copy read back is one row.</para>
/// <para>Not thread-safe. The model owns its generators; the ONNX Runtime GenAI <c>Model</c> may be shared.</para>
/// </remarks>
public sealed class OnnxGenAILanguageModel : ILanguageModel, IDisposable
{
    private readonly Model _model;
    private readonly bool _ownsModel;
    private readonly int? _maxLength;
    private readonly Row[] _rows;
    private Tokenizer? _tokenizer;
    private readonly HostLogitRows _hostRows;
    private bool _disposed;

    /// <summary>Loads the model in <paramref name="modelFolder"/> (the folder of its <c>genai_config.json</c>).</summary>
    /// <param name="modelFolder">The model folder.</param>
    /// <param name="maxRows">The most rows (generators) a call may use, at least 1 (default 1).</param>
    /// <param name="maxLength">The longest context (the runtime's <c>max_length</c>); null keeps the model's setting.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> or <paramref name="maxLength"/> is below 1.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public OnnxGenAILanguageModel(string modelFolder, int maxRows = 1, int? maxLength = null)
        : this(LoadModel(modelFolder), ownsModel: true, maxRows, maxLength)
    {
    }

    /// <summary>Creates a model over a loaded ONNX Runtime GenAI <see cref="Model"/>.</summary>
    /// <param name="model">The runtime's model.</param>
    /// <param name="ownsModel">Dispose the runtime's model with this one.</param>
    /// <param name="maxRows">The most rows (generators) a call may use, at least 1 (default 1).</param>
    /// <param name="maxLength">The longest context (the runtime's <c>max_length</c>); null keeps the model's setting.</param>
    /// <remarks>The managed API exposes no vocabulary size, so the constructor runs the model once on the single
    /// token 0 and reads the width of its logits.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> or <paramref name="maxLength"/> is below 1.</exception>
    public OnnxGenAILanguageModel(Model model, bool ownsModel = false, int maxRows = 1, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        if (maxLength is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "The maximum length must be at least 1.");
        }

        _model = model;
        _ownsModel = ownsModel;
        _maxLength = maxLength;
        _rows = new Row[maxRows];
        for (int r = 0; r < _rows.Length; r++)
        {
            _rows[r] = new Row();
        }

        try
        {
            VocabSize = ProbeVocabSize();
        }
        catch
        {
            Dispose();
            throw;
        }

        _hostRows = new HostLogitRows(VocabSize);
    }

    /// <summary>The ONNX Runtime GenAI model.</summary>
    public Model Model => _model;

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <summary>The most rows <see cref="NextTokenLogits"/> accepts.</summary>
    public int MaxRows => _rows.Length;

    /// <summary>The name of the decoder output holding the logits (default <c>"logits"</c>, the name in the exports of
    /// ONNX Runtime GenAI's model builder).</summary>
    public string LogitsOutputName { get; init; } = "logits";

    /// <summary>The number of forward passes run so far (one per <c>AppendTokens</c>).</summary>
    public long ForwardPasses { get; private set; }

    /// <summary>The number of tokens appended so far (a measure of KV-cache reuse).</summary>
    public long AppendedTokens { get; private set; }

    /// <summary>The most logits one <c>GetOutput</c> copy may hold (default 2^24 floats, 64 MB) before the last new
    /// token is appended on its own (settable for tests).</summary>
    internal long OutputCopyLimit { get; set; } = 1L << 24;

    /// <summary>The model's tokenizer (created on first use).</summary>
    public Tokenizer Tokenizer
    {
        get
        {
            ThrowIfDisposed();
            return _tokenizer ??= new Tokenizer(_model);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1 or above <see cref="MaxRows"/>.</exception>
    public LogitBatch CreateLogitBatch(int rows)
    {
        ThrowIfDisposed();
        CheckRows(rows, nameof(rows));
        return new CpuLogitBatch(rows, VocabSize);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A context is empty, longer than the maximum length, or holds an id outside
    /// the vocabulary, or the destination's shape differs.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There are more contexts than <see cref="MaxRows"/>.</exception>
    /// <exception cref="OnnxRuntimeGenAIException">The runtime failed; the row's generator is discarded.</exception>
    public void NextTokenLogits(IReadOnlyList<ReadOnlyMemory<int>> contexts, LogitBatch destination)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(destination);
        CheckRows(contexts.Count, nameof(contexts));
        var host = _hostRows.Open(destination, contexts.Count, nameof(destination));
        for (int r = 0; r < contexts.Count; r++)
        {
            Evaluate(r, contexts[r].Span, host.Span.Slice(r * VocabSize, VocabSize), nameof(contexts));
        }

        _hostRows.Complete(destination);
    }

    /// <summary>A source of next-token logits for the histories of the given sampling contexts (for guidance
    /// processors that take a second model, e.g. STEER's negative branch over another instance).</summary>
    /// <returns>The source.</returns>
    public ILogitSource AsLogitSource() => new HistorySource(this);

    /// <summary>Encodes <paramref name="text"/> with the model's tokenizer.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The token ids.</returns>
    public int[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var sequences = Tokenizer.Encode(text);
        return sequences[0].ToArray();
    }

    /// <summary>Forgets every row's generator (the next call starts each row from its first token).</summary>
    public void ResetCache()
    {
        ThrowIfDisposed();
        foreach (var row in _rows)
        {
            row.Discard();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var row in _rows)
        {
            row.Discard();
        }

        _tokenizer?.Dispose();
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }

    private void Evaluate(int r, ReadOnlySpan<int> tokens, Span<float> target, string parameterName)
    {
        if (tokens.IsEmpty)
        {
            throw new ArgumentException($"Row {r} is empty; a context needs at least one token.", parameterName);
        }

        if (_maxLength is int max && tokens.Length > max)
        {
            throw new ArgumentException($"Row {r} holds {tokens.Length} tokens, more than the maximum length {max}.", parameterName);
        }

        var row = _rows[r];
        var cached = row.Tokens;
        int common = 0;
        int limit = Math.Min(cached.Count, tokens.Length);
        while (common < limit && cached[common] == tokens[common])
        {
            common++;
        }

        // The cached prefix was checked when it was appended; only the rest can hold a bad id.
        for (int i = common; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabSize)
            {
                throw new ArgumentException($"Row {r} holds the id {tokens[i]} at position {i}, outside the vocabulary [0, {VocabSize}).", parameterName);
            }
        }

        // A fully cached context still needs its last token run again for the logits.
        if (common == tokens.Length)
        {
            common--;
        }

        try
        {
            var generator = row.Generator ??= CreateGenerator();
            if (common < cached.Count)
            {
                generator.RewindTo((ulong)common);
                cached.RemoveRange(common, cached.Count - common);
            }

            var appended = tokens[common..];

            // GetOutput copies the logits of every appended position; for a long prompt at a large vocabulary that
            // copy would dwarf the rest (and overflow the runtime's int-sized span), so the last token goes alone.
            if ((long)appended.Length * VocabSize > OutputCopyLimit)
            {
                generator.AppendTokens(appended[..^1]);
                ForwardPasses++;
                appended = appended[^1..];
                for (int i = common; i < tokens.Length - 1; i++)
                {
                    cached.Add(tokens[i]);
                }

                AppendedTokens += tokens.Length - 1 - common;
            }

            generator.AppendTokens(appended);
            for (int i = 0; i < appended.Length; i++)
            {
                cached.Add(appended[i]);
            }

            ForwardPasses++;
            AppendedTokens += appended.Length;
            ReadLastLogits(generator, target, r);
        }
        catch
        {
            // The bookkeeping may be ahead of what the generator holds: start this row from scratch next time.
            row.Discard();
            throw;
        }
    }

    private void ReadLastLogits(Generator generator, Span<float> target, int r)
    {
        using var output = generator.GetOutput(LogitsOutputName);
        long[] shape = output.Shape();
        if (shape.Length < 2 || shape[^1] != target.Length)
        {
            throw new InvalidOperationException(
                $"Row {r}: the output '{LogitsOutputName}' has shape [{string.Join(", ", shape)}]; [1, tokens, {target.Length}] was expected.");
        }

        long count = output.NumElements();
        long offset = count - target.Length;
        switch (output.Type())
        {
            case ElementType.float32:
                output.GetData<float>().Slice((int)offset, target.Length).CopyTo(target);
                break;
            case ElementType.float16:
                var halves = MemoryMarshal.Cast<ushort, Half>(output.GetData<ushort>().Slice((int)offset, target.Length));
                for (int i = 0; i < halves.Length; i++)
                {
                    target[i] = (float)halves[i];
                }

                break;
            default:
                throw new NotSupportedException($"The output '{LogitsOutputName}' holds {output.Type()} values; float32 and float16 are supported.");
        }
    }

    private int ProbeVocabSize()
    {
        var row = _rows[0];
        var generator = row.Generator = CreateGenerator();
        generator.AppendTokens([0]);
        row.Tokens.Add(0);
        ForwardPasses++;
        AppendedTokens++;
        using var output = generator.GetOutput(LogitsOutputName);
        long[] shape = output.Shape();
        if (shape.Length < 2 || shape[^1] < 1 || shape[^1] > Array.MaxLength)
        {
            throw new InvalidOperationException($"The output '{LogitsOutputName}' has shape [{string.Join(", ", shape)}]; [1, tokens, vocab] was expected.");
        }

        return (int)shape[^1];
    }

    private Generator CreateGenerator()
    {
        using var parameters = new GeneratorParams(_model);
        if (_maxLength is int max)
        {
            parameters.SetSearchOption("max_length", max);
        }

        return new Generator(_model, parameters);
    }

    private void CheckRows(int rows, string parameterName)
    {
        if (rows < 1 || rows > _rows.Length)
        {
            throw new ArgumentOutOfRangeException(parameterName, rows, $"The model takes 1 to {_rows.Length} rows (its maxRows).");
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private static Model LoadModel(string modelFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelFolder);
        if (!Directory.Exists(modelFolder))
        {
            throw new DirectoryNotFoundException($"The model folder '{modelFolder}' does not exist.");
        }

        return new Model(modelFolder);
    }

    private sealed class Row
    {
        public Generator? Generator { get; set; }

        public List<int> Tokens { get; } = new();

        public void Discard()
        {
            Generator?.Dispose();
            Generator = null;
            Tokens.Clear();
        }
    }

    private sealed class HistorySource : ILogitSource
    {
        private readonly OnnxGenAILanguageModel _model;

        public HistorySource(OnnxGenAILanguageModel model) => _model = model;

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

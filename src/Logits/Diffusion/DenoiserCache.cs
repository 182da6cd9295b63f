using Logits.Processing;

namespace Logits.Diffusion;

/// <summary>
/// Per-sequence host copies of the denoiser's (processed) output, with the staleness flags of RADD's caching rule
/// (docs/algorithms/discrete-diffusion.md#caching-and-nfe) and the per-sequence function-evaluation counts.
/// </summary>
internal sealed class DenoiserCache
{
    private readonly ITimeIndependentDenoiser _denoiser;
    private readonly IReadOnlyList<ILogitProcessor> _processors;
    private readonly float[][] _rows;
    private readonly bool[] _stale;
    private readonly int _length;
    private readonly int _vocab;
    private readonly int[] _pending;
    private int _pendingCount;

    public DenoiserCache(ITimeIndependentDenoiser denoiser, IReadOnlyList<ILogitProcessor> processors, int sequences, int length)
    {
        _denoiser = denoiser;
        _processors = processors;
        _length = length;
        _vocab = denoiser.Vocabulary;
        _rows = new float[sequences][];
        _stale = new bool[sequences];
        _pending = new int[sequences];
        Evaluations = new int[sequences];
        Array.Fill(_stale, true);
    }

    /// <summary>Network calls per sequence: the NFE of docs/algorithms/discrete-diffusion.md#caching-and-nfe.</summary>
    public int[] Evaluations { get; }

    public bool IsStale(int sequence) => _stale[sequence];

    /// <summary>Marks a sequence as changed since its cached evaluation.</summary>
    public void Invalidate(int sequence) => _stale[sequence] = true;

    /// <summary>Queues a sequence for the next <see cref="Flush"/>.</summary>
    public void Request(int sequence) => _pending[_pendingCount++] = sequence;

    /// <summary>The cached row of one position.</summary>
    public ReadOnlySpan<float> Row(int sequence, int position) => _rows[sequence].AsSpan(position * _vocab, _vocab);

    /// <summary>Evaluates every queued sequence in one batched call, applies the processors and refreshes their caches.</summary>
    public void Flush(int[] tokens)
    {
        if (_pendingCount == 0)
        {
            return;
        }

        int count = _pendingCount;
        _pendingCount = 0;
        int[] gathered = ArrayPool<int>.Shared.Rent(count * _length);
        float[] host = ArrayPool<float>.Shared.Rent(count * _length * _vocab);
        try
        {
            for (int j = 0; j < count; j++)
            {
                tokens.AsSpan(_pending[j] * _length, _length).CopyTo(gathered.AsSpan(j * _length));
            }

            using (LogitBatch output = _denoiser.Predict(gathered.AsSpan(0, count * _length), count))
            {
                if (output is null || output.Rows != count * _length || output.Vocab != _vocab)
                {
                    ThrowHelper.ThrowArgument("denoiser", $"must return a batch of [{count * _length}, {_vocab}] (sequences × length rows, vocabulary columns).");
                }

                if (_processors.Count > 0)
                {
                    var contexts = SamplingContext.ForRows(output.Rows);
                    for (int p = 0; p < _processors.Count; p++)
                    {
                        _processors[p].Process(output, contexts);
                    }
                }

                output.CopyTo(host.AsSpan(0, count * _length * _vocab));
            }

            int block = _length * _vocab;
            DiffusionMath.CheckFinite(host.AsSpan(0, count * block), _vocab, 0, "denoiser output");
            for (int j = 0; j < count; j++)
            {
                int b = _pending[j];
                float[] rows = _rows[b] ??= new float[block];
                host.AsSpan(j * block, block).CopyTo(rows);
                _stale[b] = false;
                Evaluations[b]++;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(gathered);
            ArrayPool<float>.Shared.Return(host);
        }
    }
}

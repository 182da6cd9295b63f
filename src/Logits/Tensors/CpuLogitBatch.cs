using Logits.Tensors.Cpu;

namespace Logits.Tensors;

/// <summary>
/// A <c>[rows, vocab]</c> logit batch in managed CPU memory, row-major, processed by the SIMD CPU kernels.
/// </summary>
/// <remarks>
/// The batch either owns a new zero-filled array or wraps caller memory (no copy). Rows are contiguous
/// spans of <see cref="LogitBatch.Vocab"/> floats; <see cref="GetRow(int)"/> gives one.
/// </remarks>
public sealed class CpuLogitBatch : LogitBatch
{
    private readonly Memory<float> _data;
    private readonly bool _ownsMemory;
    private RowSupport? _support;
    private float[]? _entryMaxima;
    private bool[]? _entryBlocks;
    private bool _hasEntryMaxima;
    private bool _tracking;
    private readonly CpuLogitBatch? _whole;
    private CpuLogitBatch[]? _blocks;

    /// <summary>A view of rows <c>[firstRow, firstRow + rows)</c> of <paramref name="whole"/> (a row block; see <see cref="Blocks"/>).</summary>
    private CpuLogitBatch(CpuLogitBatch whole, int firstRow, int rows)
        : base(rows, whole.Vocab, firstRow, whole.Rows)
    {
        _data = whole._data.Slice(firstRow * whole.Vocab, rows * whole.Vocab);
        _whole = whole;
    }

    /// <summary>Allocates a zero-filled batch.</summary>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1, or the product exceeds <see cref="Array.MaxLength"/>.</exception>
    public CpuLogitBatch(int rows, int vocab)
        : base(rows, vocab)
    {
        if ((long)rows * vocab > Array.MaxLength)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), rows, $"rows * vocab must not exceed {Array.MaxLength}");
        }

        _data = new float[rows * vocab];
        _ownsMemory = true;
    }

    /// <summary>Wraps existing row-major memory without copying.</summary>
    /// <param name="data">Exactly <c>rows * vocab</c> floats; the batch reads and writes them in place.</param>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not <c>rows * vocab</c> long.</exception>
    public CpuLogitBatch(Memory<float> data, int rows, int vocab)
        : base(rows, vocab)
    {
        if (data.Length != (long)rows * vocab)
        {
            ThrowHelper.ThrowArgument(nameof(data), $"has {data.Length} elements but rows * vocab = {(long)rows * vocab} are required.");
        }

        _data = data;
    }

    /// <summary>
    /// For a row block: whether its pipeline call tracks row supports, as decided on the thread that started the whole
    /// call (blocks run on worker threads, whose <see cref="RowSupport.Enabled"/> may differ).
    /// </summary>
    internal bool BlockTracksSupport { get; set; }

    /// <summary>For a row block: whether block maxima are off, as decided on the thread that started the whole call (tests).</summary>
    internal bool BlockDisablesBlockMaxima { get; set; }

    /// <summary>The state of this batch's row-blocked pipeline calls, kept between calls (no allocation per call).</summary>
    internal Pipelines.RowBlockCall? BlockCall { get; set; }

    /// <summary>
    /// The batch cut into consecutive row blocks of <paramref name="blockRows"/> rows (the last may be shorter), as
    /// views sharing this batch's memory; cached, so a steady stream of calls allocates nothing.
    /// </summary>
    internal CpuLogitBatch[] Blocks(int blockRows)
    {
        if (_blocks is null || _blocks[0].Rows != Math.Min(blockRows, Rows))
        {
            int count = (Rows + blockRows - 1) / blockRows;
            var blocks = new CpuLogitBatch[count];
            for (int b = 0; b < count; b++)
            {
                int first = b * blockRows;
                blocks[b] = new CpuLogitBatch(this, first, Math.Min(blockRows, Rows - first));
            }

            _blocks = blocks;
        }

        return _blocks;
    }

    /// <summary>The CPU kernel set shared by every CPU batch.</summary>
    public override ILogitKernels Kernels => CpuKernels.Instance;

    /// <summary>The batch's memory, row-major.</summary>
    public Memory<float> Memory
    {
        get
        {
            ForgetRowKnowledge();
            return _data;
        }
    }

    /// <summary>The memory as the kernels see it: no effect on what they know about the rows.</summary>
    internal Memory<float> Storage => _data;

    /// <summary>What the kernels know about the rows during a pipeline call; null outside one.</summary>
    internal RowSupport? Support => _tracking ? _support : null;

    /// <summary>The batch's values as one row-major span.</summary>
    /// <returns>A span over all <c>Rows * Vocab</c> values.</returns>
    public Span<float> AsSpan()
    {
        ForgetRowKnowledge();
        return _data.Span;
    }

    /// <summary>One row as a span.</summary>
    /// <param name="row">The row index.</param>
    /// <returns>The row's <see cref="LogitBatch.Vocab"/> values.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is outside <c>[0, Rows)</c>.</exception>
    public Span<float> GetRow(int row)
    {
        if ((uint)row >= (uint)Rows)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, $"must be in [0, {Rows})");
        }

        Support?.Forget(row);
        ForgetEntryMaximum(row);
        ForgetEntriesChecked();
        return _data.Span.Slice(row * Vocab, Vocab);
    }

    /// <summary>
    /// Copies one row in and checks it in the same pass: NaN or <c>+∞</c> throw, and the row's maximum is remembered,
    /// so the next pipeline call on this batch skips its own entry check of that row.
    /// </summary>
    /// <param name="row">The row index.</param>
    /// <param name="source">Exactly <see cref="LogitBatch.Vocab"/> logits.</param>
    /// <remarks>
    /// For a runtime adapter that copies a model's output row in before each pipeline call: one pass over the row
    /// instead of a copy and a check. The remembered maximum is dropped by anything that may change the row before
    /// the pipeline runs (<see cref="GetRow"/>, <see cref="AsSpan"/>, <see cref="Memory"/>, <see cref="CopyFrom"/>,
    /// any kernel called outside a pipeline). A batch that wraps caller memory copies and checks but remembers
    /// nothing, since the caller could write that memory directly.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is outside <c>[0, Rows)</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not hold <see cref="LogitBatch.Vocab"/> values.</exception>
    /// <exception cref="InvalidLogitsException">A value is NaN or <c>+∞</c> (stage <c>"input"</c>); the row holds the copy.</exception>
    public void CopyRowFrom(int row, ReadOnlySpan<float> source)
    {
        if ((uint)row >= (uint)Rows)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, $"must be in [0, {Rows})");
        }

        if (source.Length != Vocab)
        {
            ThrowHelper.ThrowArgument(nameof(source), $"has {source.Length} elements but the row has {Vocab}.");
        }

        var destination = _data.Span.Slice(row * Vocab, Vocab);
        if (_tracking)
        {
            // Inside a pipeline call (a logit source filling a batch): what is known about the row is replaced.
            _support!.Forget(row);
            var blocks = _support.BlockMaximaSlots(row, Vocab);
            if (blocks.IsEmpty)
            {
                _support.SetMaximum(row, RowMath.CopyCheckedMax(source, destination, row));
            }
            else
            {
                _support.SetMaximumWithBlocks(row, BlockMaxima.CopyCheckedMax(source, destination, blocks, row));
            }

            return;
        }

        ForgetEntryMaximum(row);
        if (!_ownsMemory || !RowSupport.Enabled)
        {
            RowMath.CopyCheckedMax(source, destination, row);
            return;
        }

        // The row's maximum (and a long row's block maxima, kept in the support's slots, which only a pipeline call
        // uses) spare the next pipeline call its entry check; the support learns them when the call starts.
        _support ??= new RowSupport(Rows, Vocab);
        var blockSlots = _support.BlockMaximaSlots(row, Vocab);
        float maximum = blockSlots.IsEmpty
            ? RowMath.CopyCheckedMax(source, destination, row)
            : BlockMaxima.CopyCheckedMax(source, destination, blockSlots, row);
        if (_entryMaxima is null)
        {
            _entryMaxima = new float[Rows];
            _entryMaxima.AsSpan().Fill(float.NaN);
            _entryBlocks = new bool[Rows];
        }

        _entryMaxima[row] = maximum;
        _entryBlocks![row] = !blockSlots.IsEmpty;
        _hasEntryMaxima = true;
    }

    /// <summary>Drops the maxima <see cref="CopyRowFrom"/> remembered (called by every kernel outside a pipeline call).</summary>
    internal void ForgetEntryMaxima()
    {
        if (_hasEntryMaxima)
        {
            if (Rows == 1)
            {
                _entryMaxima![0] = float.NaN;
            }
            else
            {
                _entryMaxima.AsSpan().Fill(float.NaN);
            }

            _hasEntryMaxima = false;
        }
    }

    /// <summary>Creates a batch of one row that copies <paramref name="values"/>.</summary>
    /// <param name="values">The logits of the row; at least one.</param>
    /// <returns>A new single-row batch.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static CpuLogitBatch FromRow(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(values), "must hold at least one logit.");
        }

        var batch = new CpuLogitBatch(1, values.Length);
        values.CopyTo(batch.AsSpan());
        return batch;
    }

    /// <summary>Creates a batch that copies row-major <paramref name="values"/>.</summary>
    /// <param name="values">Exactly <c>rows * vocab</c> logits.</param>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size, at least 1.</param>
    /// <returns>A new batch.</returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> has the wrong length.</exception>
    public static CpuLogitBatch FromRows(ReadOnlySpan<float> values, int rows, int vocab)
    {
        var batch = new CpuLogitBatch(rows, vocab);
        batch.CopyFrom(values);
        return batch;
    }

    /// <inheritdoc />
    public override LogitBatch CreateLike() => new CpuLogitBatch(Rows, Vocab);

    /// <inheritdoc />
    public override void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(source), $"has {source.Length} elements but {Length} are required.");
        }

        ForgetRowKnowledge();
        source.CopyTo(_data.Span);
    }

    /// <inheritdoc />
    public override void CopyTo(Span<float> destination)
    {
        if (destination.Length < Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Length} are required.");
        }

        _data.Span.CopyTo(destination);
    }

    /// <inheritdoc />
    public override void CopyRowTo(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, $"must be in [0, {Rows})");
        }

        if (destination.Length < Vocab)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Vocab} are required.");
        }

        _data.Span.Slice(row * Vocab, Vocab).CopyTo(destination);
    }

    /// <inheritdoc />
    private protected override void CheckEntries()
    {
        // Rows copied in by CopyRowFrom since the last write are checked already (their maxima are known).
        var support = Support;
        if (support is not null)
        {
            int row = 0;
            while (row < Rows && support.TryGetMaximum(row, out _))
            {
                row++;
            }

            if (row == Rows)
            {
                return;
            }
        }

        base.CheckEntries();
    }

    /// <inheritdoc />
    private protected override void OnPipelineCallStarted()
    {
        if (_whole is null ? RowSupport.Enabled : BlockTracksSupport)
        {
            _support ??= new RowSupport(Rows, Vocab);
            _support.ForgetAll();
            _tracking = true;
            if (_whole is not null)
            {
                _support.BlockMaximaDisabled = BlockDisablesBlockMaxima;
            }

            // A row block reads the maxima its whole batch remembered (the whole batch forgets them after the call).
            var owner = _whole ?? this;
            if (owner._hasEntryMaxima)
            {
                // Rows copied in by CopyRowFrom and untouched since: their checked maxima spare the entry check.
                for (int row = 0; row < Rows; row++)
                {
                    int source = RowOffset + row;
                    float maximum = owner._entryMaxima![source];
                    if (float.IsNaN(maximum))
                    {
                        continue;
                    }

                    if (owner._entryBlocks![source] && TakeEntryBlockMaxima(owner, source, row))
                    {
                        _support.SetMaximumWithBlocks(row, maximum);
                    }
                    else
                    {
                        _support.SetMaximum(row, maximum);
                    }
                }
            }
        }

        ForgetEntryMaxima();
    }

    /// <inheritdoc />
    private protected override void OnPipelineCallEnded()
    {
        _support?.ForgetAll();
        _tracking = false;
    }

    /// <summary>
    /// Row <paramref name="row"/>'s block maxima, recorded by <see cref="CopyRowFrom"/> as row <paramref name="source"/> of
    /// <paramref name="owner"/>, in this batch's support: already there for the batch itself, copied for a row block.
    /// False when this support keeps none.
    /// </summary>
    private bool TakeEntryBlockMaxima(CpuLogitBatch owner, int source, int row)
    {
        if (ReferenceEquals(owner, this))
        {
            return true;
        }

        var slots = _support!.BlockMaximaSlots(row, Vocab);
        var recorded = owner._support!.BlockMaximaSlots(source, Vocab);
        if (slots.IsEmpty || recorded.Length != slots.Length)
        {
            return false;
        }

        recorded.CopyTo(slots);
        return true;
    }

    private void ForgetRowKnowledge()
    {
        ForgetEntriesChecked();
        Support?.ForgetAll();
        ForgetEntryMaxima();
    }

    private void ForgetEntryMaximum(int row)
    {
        if (_hasEntryMaxima)
        {
            _entryMaxima![row] = float.NaN;
        }
    }
}

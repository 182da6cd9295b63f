
namespace Logits.Processing;

/// <summary>
/// Base class of the built-in processors: validates the call, checks the logits (NaN/+∞ throw with stage
/// <c>"input"</c>), hands the row maxima to <see cref="ProcessCore"/>, and makes all-<c>-∞</c> rows pass
/// through unchanged (docs/algorithms/conventions.md#shared-rules), so subclasses never see an empty row.
/// </summary>
public abstract class LogitProcessor : ILogitProcessor
{
    private readonly RowMaximaUse _rowMaxima;
    private int[] _perRowCounts = Array.Empty<int>();

    /// <summary>Creates a processor whose <see cref="ProcessCore"/> receives the row maxima.</summary>
    protected LogitProcessor()
        : this(RowMaximaUse.Read)
    {
    }

    /// <summary>Creates a built-in processor that declares what it needs of the row maxima and the empty-row guard.</summary>
    private protected LogitProcessor(RowMaximaUse rowMaxima) => _rowMaxima = rowMaxima;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract bool IsArgmaxInvariant { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The number of contexts or of per-row parameters differs from the rows.</exception>
    /// <exception cref="InvalidLogitsException">A logit is NaN or <c>+∞</c>.</exception>
    public void Process(LogitBatch logits, IReadOnlyList<SamplingContext> contexts)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(contexts);
        if (contexts.Count != logits.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(contexts), $"has {contexts.Count} contexts but the batch has {logits.Rows} rows.");
        }

        // A row block of a larger batch (see Pipelines.RowBlocks) is checked against the whole batch: per-row parameters
        // are read at RowOffset + r.
        foreach (int count in _perRowCounts)
        {
            PerRowChecks.EnsureCount(count, logits.WholeRows, Name);
        }

        EnsureRows(logits.WholeRows);
        if (logits.EntriesChecked && _rowMaxima == RowMaximaUse.None)
        {
            // Inside a pipeline call the entry check has been made: a processor that needs neither the maxima nor
            // the empty-row guard runs at once (penalties and biases pay for their sparse edits only).
            ProcessCore(logits, contexts, ReadOnlySpan<float>.Empty);
            return;
        }

        if (logits.EntriesChecked && _rowMaxima == RowMaximaUse.GuardOnly && logits.BeginDeviceEmptyRowGuard() is { } guard)
        {
            // A device backend inside a pipeline call: the empty-row guard stays on the device (no host read of the
            // maxima), which only works for a processor that does not read their values.
            try
            {
                ProcessCore(logits, contexts, ReadOnlySpan<float>.Empty);
            }
            finally
            {
                logits.EndDeviceEmptyRowGuard(guard);
            }

            return;
        }

        int rows = logits.Rows;
        var maxima = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            // The checked row maximum (one pass that also rejects NaN/+inf; remembered by the backend within a
            // pipeline call, so a processor there does not pay for it again).
            logits.Kernels.RowMax(logits, maxima.AsSpan(0, rows));
            logits.MarkEntriesChecked();
            int empty = 0;
            for (int r = 0; r < rows; r++)
            {
                if (float.IsNegativeInfinity(maxima[r]))
                {
                    empty++;
                }
            }

            if (empty == 0)
            {
                ProcessCore(logits, contexts, maxima.AsSpan(0, rows));
            }
            else
            {
                ProcessWithEmptyRows(logits, contexts, maxima.AsSpan(0, rows));
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(maxima);
        }
    }

    /// <summary>
    /// Whether this built-in processor may run on row blocks (see <c>Pipelines.RowBlocks</c>): it reads per-row parameters
    /// and per-row state at <c>logits.RowOffset + r</c>, names rows by that index, and two blocks may run it at once.
    /// False for every processor outside this library and for those that call out per batch (guidance, rectification,
    /// allowed-token callbacks).
    /// </summary>
    internal virtual bool SupportsRowBlocks => false;

    /// <summary>Grows per-row state to a batch of <paramref name="rows"/> rows before its blocks run concurrently.</summary>
    /// <param name="rows">The rows of the whole batch.</param>
    internal virtual void PrepareRowBlocks(int rows)
    {
    }

    /// <summary>Rewrites every row in place; no row is all <c>-∞</c>.</summary>
    /// <param name="logits">The batch, already checked for NaN/+∞.</param>
    /// <param name="contexts">One context per row.</param>
    /// <param name="rowMax">The maximum of each row (finite).</param>
    protected abstract void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax);

    /// <summary>
    /// Registers a per-row parameter of a built-in processor and returns it unchanged: <see cref="Process"/> then checks
    /// that it holds one value per row of the batch (or a single value), naming the processor.
    /// </summary>
    private protected PerRow<T> PerRowParameter<T>(PerRow<T> parameter)
    {
        if (parameter.IsPerRow)
        {
            Array.Resize(ref _perRowCounts, _perRowCounts.Length + 1);
            _perRowCounts[^1] = parameter.Count;
        }

        return parameter;
    }

    /// <summary>Checks that per-row parameters fit a batch of <paramref name="rows"/> rows.</summary>
    /// <param name="rows">The batch's row count.</param>
    /// <exception cref="ArgumentException">A per-row parameter has another count.</exception>
    protected virtual void EnsureRows(int rows)
    {
    }

    /// <summary>
    /// The rare path: empty rows get a temporary finite entry (token 0 = 0) so every kernel can run, and are
    /// masked back to all <c>-∞</c> afterwards. Other rows are processed exactly as usual.
    /// </summary>
    private void ProcessWithEmptyRows(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<float> rowMax)
    {
        int rows = logits.Rows;
        var ids = new int[rows];
        var zeros = new float[rows];
        var restore = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            bool isEmpty = float.IsNegativeInfinity(rowMax[r]);
            ids[r] = isEmpty ? 0 : -1;
            restore[r] = isEmpty ? float.PositiveInfinity : float.NegativeInfinity;
            if (isEmpty)
            {
                rowMax[r] = 0;
            }
        }

        logits.Kernels.Scatter(logits, ids, zeros);
        ProcessCore(logits, contexts, rowMax);
        logits.Kernels.MaskBelow(logits, restore, logits);
    }
}

/// <summary>What a built-in processor needs of <see cref="LogitProcessor"/>'s row maxima, declared at construction.</summary>
internal enum RowMaximaUse
{
    /// <summary>
    /// <see cref="LogitProcessor.ProcessCore"/> reads the maxima (every processor outside this library, whose
    /// <c>ProcessCore</c> is promised them).
    /// </summary>
    Read,

    /// <summary>
    /// Only the empty-row guard is needed (the processor could revive an all <c>-∞</c> row, e.g. a forced token, or
    /// normalises the row): a device backend keeps the guard on its device and passes an empty <c>rowMax</c>.
    /// </summary>
    GuardOnly,

    /// <summary>
    /// Neither: the processor only adds to, scales or bans entries, so an all <c>-∞</c> row stays so. Inside a pipeline
    /// call, whose entry check covers it, it gets an empty <c>rowMax</c> and no pass over the rows.
    /// </summary>
    None,
}

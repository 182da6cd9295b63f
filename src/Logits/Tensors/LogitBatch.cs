
namespace Logits.Tensors;

/// <summary>
/// A <c>[rows, vocab]</c> batch of float32 logits, held in CPU memory (<see cref="CpuLogitBatch"/>)
/// or in a torch tensor (<c>Logits.TorchSharp.TorchLogitBatch</c>).
/// </summary>
/// <remarks>
/// Algorithms never ask which backend holds a batch: they call the primitive operations of
/// <see cref="Kernels"/>, which every backend implements with the same semantics
/// (see <see cref="ILogitKernels"/>). Batches passed to one kernel call must come from the same
/// backend (and, for torch, the same device).
/// </remarks>
public abstract class LogitBatch : IDisposable
{
    /// <summary>Initialises the shape.</summary>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size (row length), at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="vocab"/> is below 1.</exception>
    protected LogitBatch(int rows, int vocab)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(rows), rows, "must be at least 1");
        }

        if (vocab < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(vocab), vocab, "must be at least 1");
        }

        Rows = rows;
        Vocab = vocab;
        WholeRows = rows;
    }

    /// <summary>Initialises a view of rows <c>[rowOffset, rowOffset + rows)</c> of a batch of <paramref name="wholeRows"/> rows.</summary>
    private protected LogitBatch(int rows, int vocab, int rowOffset, int wholeRows)
        : this(rows, vocab)
    {
        RowOffset = rowOffset;
        WholeRows = wholeRows;
    }

    /// <summary>The number of rows (sequences) in the batch.</summary>
    public int Rows { get; }

    /// <summary>The vocabulary size: the length of every row.</summary>
    public int Vocab { get; }

    /// <summary>
    /// The index, in the whole batch, of this batch's row 0: 0, except for a row block of a larger batch (the CPU
    /// pipeline runs its chain block by block, see <c>RowBlocks</c>). Built-in processors and selectors read per-row
    /// parameters and per-row state at <c>RowOffset + r</c> and name rows by that index in their errors.
    /// </summary>
    internal int RowOffset { get; }

    /// <summary>The rows of the whole batch this batch is a block of (<see cref="Rows"/> unless it is a row block).</summary>
    internal int WholeRows { get; }

    /// <summary>The number of elements, <c>Rows * Vocab</c>.</summary>
    public long Length => (long)Rows * Vocab;

    /// <summary>The primitive operations of the backend that holds this batch.</summary>
    public abstract ILogitKernels Kernels { get; }

    /// <summary>Creates a zero-filled batch of the same shape on the same backend and device.</summary>
    /// <returns>A new batch the caller owns (and disposes).</returns>
    public abstract LogitBatch CreateLike();

    /// <summary>Copies row-major values (<c>Rows * Vocab</c> of them) into the batch.</summary>
    /// <param name="source">Row-major values, exactly <see cref="Length"/> long.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> has the wrong length.</exception>
    public abstract void CopyFrom(ReadOnlySpan<float> source);

    /// <summary>Copies the batch, row-major, into <paramref name="destination"/>.</summary>
    /// <param name="destination">At least <see cref="Length"/> elements.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public abstract void CopyTo(Span<float> destination);

    /// <summary>Copies one row into <paramref name="destination"/>.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="destination">At least <see cref="Vocab"/> elements.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is outside <c>[0, Rows)</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too short.</exception>
    public abstract void CopyRowTo(int row, Span<float> destination);

    /// <summary>Returns a row-major copy of the batch as a new array.</summary>
    /// <returns>The values, <c>Rows * Vocab</c> of them.</returns>
    public float[] ToArray()
    {
        var result = new float[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Releases the batch's storage (a no-op for managed CPU memory).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources held by the backend.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    private int _pipelineDepth;

    /// <summary>
    /// Marks the start of a pipeline call on this batch (calls nest). Between this and the matching
    /// <see cref="ExitPipelineCall"/>, a backend may remember facts about rows across kernel calls (the CPU
    /// backend remembers row supports and maxima; see <c>RowSupport</c>), and <see cref="EntriesChecked"/> may be
    /// set; outside, nothing is remembered.
    /// </summary>
    internal void EnterPipelineCall()
    {
        if (_pipelineDepth++ == 0)
        {
            OnPipelineCallStarted();
        }
    }

    /// <summary>Marks the end of a pipeline call started with <see cref="EnterPipelineCall"/>.</summary>
    internal void ExitPipelineCall()
    {
        if (--_pipelineDepth == 0)
        {
            EntriesChecked = false;
            OnPipelineCallEnded();
        }
    }

    /// <summary>Whether a pipeline call on this batch is running.</summary>
    internal bool InPipelineCall => _pipelineDepth > 0;

    /// <summary>
    /// Inside a pipeline call: every entry is known to be free of NaN and <c>+∞</c>, because the batch was checked
    /// and every write since was made by a kernel that checks what it writes. Processors then skip their own entry
    /// check (one check per pipeline call) and kernels may skip their input check. Anything that exposes the
    /// batch's memory (a span, the tensor, a copy in) clears it; the end of the outermost call clears it.
    /// </summary>
    internal bool EntriesChecked { get; private set; }

    /// <summary>Records that the whole batch was just checked; has no effect outside a pipeline call.</summary>
    internal void MarkEntriesChecked() => EntriesChecked = _pipelineDepth > 0;

    /// <summary>Drops <see cref="EntriesChecked"/> (the caller may write the memory by other means than kernels).</summary>
    internal void ForgetEntriesChecked() => EntriesChecked = false;

    /// <summary>
    /// The pipeline's entry check: throws <see cref="InvalidLogitsException"/> (stage <c>"input"</c>) at the first NaN or
    /// <c>+∞</c> entry, then sets <see cref="EntriesChecked"/>. The default is one checked <see cref="ILogitKernels.RowMax"/>.
    /// A backend may instead record the check on its device and throw the same exception at its next host read within
    /// the pipeline call (the torch backend does: its check then costs no device-to-host transfer).
    /// </summary>
    internal void CheckEntriesForPipeline()
    {
        CheckEntries();
        MarkEntriesChecked();
    }

    /// <summary>The entry check of <see cref="CheckEntriesForPipeline"/>: one checked row maximum by default.</summary>
    private protected virtual void CheckEntries()
    {
        if (Rows <= 64)
        {
            // The common case (a sequence or a small batch): the maxima on the stack, no pool round trip.
            Span<float> few = stackalloc float[Rows];
            Kernels.RowMax(this, few);
            return;
        }

        var maxima = System.Buffers.ArrayPool<float>.Shared.Rent(Rows);
        try
        {
            Kernels.RowMax(this, maxima.AsSpan(0, Rows));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(maxima);
        }
    }

    /// <summary>
    /// The empty-row guard of <c>LogitProcessor.Process</c> kept on the backend's device, if it can: rows that are all
    /// <c>-∞</c> get a finite entry (token 0 = 0) so every kernel can run, and <see cref="EndDeviceEmptyRowGuard"/> makes
    /// them all <c>-∞</c> again, without the row maxima crossing to the host. Returns <see langword="null"/> when the
    /// backend keeps the guard on the host (the CPU backend, a batch whose maxima are already known, or outside a
    /// checked pipeline call); otherwise a handle for <see cref="EndDeviceEmptyRowGuard"/>.
    /// </summary>
    internal IDisposable? BeginDeviceEmptyRowGuard() => GuardEmptyRowsOnDevice();

    /// <summary>Ends a guard begun with <see cref="BeginDeviceEmptyRowGuard"/>: its rows become all <c>-∞</c> again.</summary>
    /// <param name="guard">The handle <see cref="BeginDeviceEmptyRowGuard"/> returned.</param>
    internal void EndDeviceEmptyRowGuard(IDisposable guard) => RestoreEmptyRowsOnDevice(guard);

    /// <summary>See <see cref="BeginDeviceEmptyRowGuard"/>; the default keeps the guard on the host.</summary>
    private protected virtual IDisposable? GuardEmptyRowsOnDevice() => null;

    /// <summary>See <see cref="EndDeviceEmptyRowGuard"/>.</summary>
    private protected virtual void RestoreEmptyRowsOnDevice(IDisposable guard)
    {
    }

    /// <summary>Called when the outermost pipeline call on this batch starts.</summary>
    private protected virtual void OnPipelineCallStarted()
    {
    }

    /// <summary>Called when the outermost pipeline call on this batch ends.</summary>
    private protected virtual void OnPipelineCallEnded()
    {
    }

    /// <summary>Throws unless <paramref name="other"/> has this batch's shape.</summary>
    /// <param name="other">The batch to compare.</param>
    /// <param name="paramName">The parameter name to report.</param>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    protected internal void EnsureSameShape(LogitBatch other, string paramName)
    {
        ArgumentNullException.ThrowIfNull(other, paramName);
        if (other.Rows != Rows || other.Vocab != Vocab)
        {
            ThrowHelper.ThrowArgument(paramName, $"has shape [{other.Rows}, {other.Vocab}] but [{Rows}, {Vocab}] is required.");
        }
    }
}


namespace Logits.Processing.Penalties;

/// <summary>
/// Per-row sparse edits of a batch, built on the host from the history: a list of
/// <c>(token id, count, flag)</c> per row, then either one PenalizeTokens call with a divisor and an offset per entry
/// (penalties, DRY) or one Scatter of new values (bans). Only the touched entries are touched; nothing is O(V) per row,
/// and no logit is read back to the host.
/// </summary>
/// <remarks>
/// A mutable struct over pooled arrays (pass it by <see langword="ref"/>; call <see cref="Dispose"/> once).
/// Rows are filled in order with <see cref="Add"/> and closed with <see cref="EndRow"/>. The kernels take the
/// same number of ids per row, so <see cref="Prepare"/> pads every row to the widest with id <c>-1</c>.
/// </remarks>
internal struct SparseRowEdits : IDisposable
{
    private readonly int _rows;
    private int[] _ids;
    private int[] _counts;
    private int[] _flags;
    private readonly int[] _rowEnds;
    private int _count;
    private int _nextRow;
    private int _width;
    private int[]? _paddedIds;
    private float[]? _values;
    private double[]? _divisors;
    private double[]? _offsets;

    public SparseRowEdits(int rows, int capacity)
    {
        _rows = rows;
        capacity = Math.Max(capacity, 16);
        _ids = LogitProcessorBuffers.RentInts(capacity);
        _counts = LogitProcessorBuffers.RentInts(capacity);
        _flags = LogitProcessorBuffers.RentInts(capacity);
        _rowEnds = LogitProcessorBuffers.RentInts(rows);
        _count = 0;
        _nextRow = 0;
        _width = 0;
        _paddedIds = null;
        _values = null;
        _divisors = null;
        _offsets = null;
    }

    /// <summary>The widest row: the number of ids per row passed to the kernels.</summary>
    public readonly int Width => _width;

    /// <summary>Adds an edit of <paramref name="id"/> to the open row.</summary>
    public void Add(int id, int count, int flag)
    {
        if (_count == _ids.Length)
        {
            Grow();
        }

        _ids[_count] = id;
        _counts[_count] = count;
        _flags[_count] = flag;
        _count++;
    }

    /// <summary>Closes the open row (rows are closed in order 0, 1, ...).</summary>
    public void EndRow()
    {
        int start = _nextRow == 0 ? 0 : _rowEnds[_nextRow - 1];
        _width = Math.Max(_width, _count - start);
        _rowEnds[_nextRow++] = _count;
    }

    /// <summary>The first compact entry of <paramref name="row"/>.</summary>
    public readonly int RowStart(int row) => row == 0 ? 0 : _rowEnds[row - 1];

    /// <summary>One past the last compact entry of <paramref name="row"/>.</summary>
    public readonly int RowEnd(int row) => _rowEnds[row];

    /// <summary>The token id of compact entry <paramref name="entry"/>.</summary>
    public readonly int Id(int entry) => _ids[entry];

    /// <summary>The count stored with compact entry <paramref name="entry"/>.</summary>
    public readonly int Count(int entry) => _counts[entry];

    /// <summary>The flag stored with compact entry <paramref name="entry"/>.</summary>
    public readonly int Flag(int entry) => _flags[entry];

    /// <summary>The value slot of compact entry <paramref name="entry"/> of <paramref name="row"/>: the gathered value, then the new one.</summary>
    public readonly ref float Value(int row, int entry) => ref _values![(row * _width) + (entry - RowStart(row))];

    /// <summary>
    /// Builds the padded id list and, when <paramref name="gather"/> is set, reads the current values of the
    /// edited entries. Returns <see langword="false"/> (nothing to do) when no row has an edit.
    /// </summary>
    public bool Prepare(LogitBatch logits, bool gather)
    {
        if (_width == 0)
        {
            return false;
        }

        int length = _rows * _width;
        _paddedIds = LogitProcessorBuffers.RentInts(length);
        _values = LogitProcessorBuffers.RentFloats(length);
        Array.Fill(_paddedIds, -1, 0, length);
        Array.Clear(_values, 0, length);
        for (int r = 0; r < _rows; r++)
        {
            int start = RowStart(r);
            _ids.AsSpan(start, RowEnd(r) - start).CopyTo(_paddedIds.AsSpan(r * _width));
        }

        if (gather)
        {
            logits.Kernels.Gather(logits, _paddedIds.AsSpan(0, length), _values.AsSpan(0, length));
        }

        return true;
    }

    /// <summary>The divisor slot (<c>θ</c>, 1 = none) of compact entry <paramref name="entry"/> of <paramref name="row"/>.</summary>
    public readonly ref double Divisor(int row, int entry) => ref _divisors![(row * _width) + (entry - RowStart(row))];

    /// <summary>The offset slot (<c>δ</c>, 0 = none) of compact entry <paramref name="entry"/> of <paramref name="row"/>.</summary>
    public readonly ref double Offset(int row, int entry) => ref _offsets![(row * _width) + (entry - RowStart(row))];

    /// <summary>
    /// Builds the padded id list and the penalty slots for <see cref="Penalize(LogitBatch, string)"/>: padding gets divisor 1 and offset 0,
    /// and the caller must set both slots of every entry (<see cref="Divisor"/>, <see cref="Offset"/>). Returns
    /// <see langword="false"/> (nothing to do) when no row has an edit.
    /// </summary>
    public bool PreparePenalties()
    {
        if (_width == 0)
        {
            return false;
        }

        int length = _rows * _width;
        _paddedIds = LogitProcessorBuffers.RentInts(length);
        _divisors = LogitProcessorBuffers.RentDoubles(length);
        _offsets = LogitProcessorBuffers.RentDoubles(length);
        for (int r = 0; r < _rows; r++)
        {
            // The caller fills every slot of a row's entries; only the padding after them is set here.
            int start = RowStart(r);
            int used = RowEnd(r) - start;
            int padding = (r * _width) + used;
            int tail = _width - used;
            _ids.AsSpan(start, used).CopyTo(_paddedIds.AsSpan(r * _width));
            _paddedIds.AsSpan(padding, tail).Fill(-1);
            _divisors.AsSpan(padding, tail).Fill(1.0);
            _offsets.AsSpan(padding, tail).Clear();
        }

        return true;
    }

    /// <summary>
    /// Applies the penalty slots with one <see cref="ILogitKernels.PenalizeTokens"/> call (after <see cref="PreparePenalties"/>):
    /// only the touched entries are read and written, on the batch's backend. Outside a pipeline call an overflow is
    /// reported under <paramref name="stage"/> (the processor's name); inside one it keeps the kernel's stage, as a
    /// device backend reports it later, and Checked mode names the processor.
    /// </summary>
    public readonly void Penalize(LogitBatch logits, string stage)
    {
        int length = _rows * _width;
        Penalize(logits, _paddedIds.AsSpan(0, length), _divisors.AsSpan(0, length), _offsets.AsSpan(0, length), stage);
    }

    /// <summary>
    /// One <see cref="ILogitKernels.PenalizeTokens"/> call with the given padded lists; an overflow outside a pipeline call
    /// is reported under <paramref name="stage"/> (see the instance <see cref="Penalize(LogitBatch, string)"/>).
    /// </summary>
    public static void Penalize(LogitBatch logits, ReadOnlySpan<int> ids, ReadOnlySpan<double> divisors, ReadOnlySpan<double> offsets, string stage)
    {
        try
        {
            logits.Kernels.PenalizeTokens(logits, ids, divisors, offsets);
        }
        catch (InvalidLogitsException error) when (error.Stage == "penalize" && !logits.InPipelineCall)
        {
            throw new InvalidLogitsException(error.Row, error.TokenIndex, error.Value, stage);
        }
    }

    /// <summary>Writes every value slot back into <paramref name="logits"/> (after <see cref="Prepare"/>).</summary>
    public readonly void Scatter(LogitBatch logits)
    {
        int length = _rows * _width;
        logits.Kernels.Scatter(logits, _paddedIds.AsSpan(0, length), _values.AsSpan(0, length));
    }

    /// <summary>Returns every pooled array.</summary>
    public void Dispose()
    {
        LogitProcessorBuffers.Return(_ids);
        LogitProcessorBuffers.Return(_counts);
        LogitProcessorBuffers.Return(_flags);
        LogitProcessorBuffers.Return(_rowEnds);
        if (_paddedIds is not null)
        {
            LogitProcessorBuffers.Return(_paddedIds);
            _paddedIds = null;
        }

        if (_values is not null)
        {
            LogitProcessorBuffers.Return(_values);
            _values = null;
        }

        if (_divisors is not null)
        {
            LogitProcessorBuffers.Return(_divisors);
            LogitProcessorBuffers.Return(_offsets!);
            _divisors = null;
            _offsets = null;
        }
    }

    private void Grow()
    {
        int capacity = _ids.Length * 2;
        _ids = Grow(_ids, capacity, _count);
        _counts = Grow(_counts, capacity, _count);
        _flags = Grow(_flags, capacity, _count);
    }

    private static int[] Grow(int[] old, int capacity, int used)
    {
        var bigger = LogitProcessorBuffers.RentInts(capacity);
        old.AsSpan(0, used).CopyTo(bigger);
        LogitProcessorBuffers.Return(old);
        return bigger;
    }
}


namespace Logits.Tensors.Cpu;

/// <summary>
/// What the CPU kernels know about each row of a <see cref="CpuLogitBatch"/> during one pipeline call: a
/// <b>support</b> (a list of token ids, ascending, outside which every entry is −∞) and the row maximum once a
/// kernel has computed it.
/// </summary>
/// <remarks>
/// <para>
/// Why: after top-k 40 (or a tight min-p / top-p), a 128k-token row holds a few dozen finite logits, yet every
/// later processor and the sampler would scan all of it. A mask kernel that removes all but at most
/// <see cref="Capacity"/> tokens records the kept ids while it writes them; the later kernels then work on
/// those ids only (gather, the same row routine on the compact values, scatter back), which is what llama.cpp
/// gets from shrinking its candidate array. The dense row stays correct at all times: the support is only a
/// hint that lets kernels skip entries known to be −∞. The row maximum is cached because the pipeline's entry
/// check and every processor's base class each ask for it.
/// </para>
/// <para>
/// Lifetime: the knowledge exists only inside a <c>LogitPipeline</c> call (the pipeline brackets the call, see
/// <see cref="LogitBatch"/>'s internal hooks), so a caller who writes into the batch's memory between calls —
/// including memory the batch merely wraps — can never leave it stale. Inside a call, every kernel that writes
/// a row updates or forgets what is known about it, and the batch's public accessors that expose its memory
/// (<see cref="CpuLogitBatch.GetRow"/>, <see cref="CpuLogitBatch.AsSpan"/>, <see cref="CpuLogitBatch.Memory"/>,
/// <see cref="CpuLogitBatch.CopyFrom"/>) forget everything.
/// </para>
/// <para>
/// The support is a superset of the finite entries: a kernel that turns a listed entry into −∞ (a scatter-add
/// of −∞) may leave it listed; the row routines handle −∞. Rows are processed in parallel, each touching only its
/// own slots.
/// </para>
/// </remarks>
internal sealed class RowSupport
{
    /// <summary>The most ids a row's support holds; a mask that keeps more leaves the row dense.</summary>
    public const int Capacity = 4096;

    private static readonly bool DisabledBySwitch = AppContext.TryGetSwitch("Logits.Cpu.DisableRowSupports", out bool disabled) && disabled;

    [ThreadStatic]
    private static bool t_disabled;

    /// <summary>
    /// Whether pipeline calls that start on this thread track row supports: off for the whole process with the
    /// AppContext switch <c>Logits.Cpu.DisableRowSupports</c>, or for one thread (tests compare both paths).
    /// </summary>
    internal static bool Enabled => !DisabledBySwitch && !t_disabled;

    /// <summary>Switches tracking off (or back on) for pipeline calls started on the current thread.</summary>
    internal static void DisableOnThisThread(bool disable) => t_disabled = disable;

    private readonly int[] _counts;
    private readonly float[] _maxima;
    private readonly bool[] _maximumKnown;
    private readonly int[] _ids;

    // Block maxima (BlockMaxima), known only together with the maximum they were taken with: every call that sets or
    // forgets the maximum forgets them. Null for rows too short to record them.
    private readonly bool[] _blocksKnown;
    private readonly float[]? _blockMaxima;
    private readonly int _blockRowLength;

    [ThreadStatic]
    private static bool t_blocksDisabled;

    /// <summary>Stops (or resumes) recording block maxima on the current thread (tests compare both paths).</summary>
    internal static void DisableBlockMaximaOnThisThread(bool disable) => t_blocksDisabled = disable;

    /// <summary>Whether <see cref="DisableBlockMaximaOnThisThread"/> is in effect on the current thread.</summary>
    internal static bool BlockMaximaDisabledOnThisThread => t_blocksDisabled;

    /// <summary>
    /// Block maxima off for this support (a row block's, whose pipeline call runs on a worker thread, takes the setting of
    /// the thread that started the whole call).
    /// </summary>
    public bool BlockMaximaDisabled { get; set; }

    /// <summary>Creates the knowledge of <paramref name="rows"/> rows of <paramref name="rowLength"/> tokens.</summary>
    /// <remarks>
    /// The block maxima of long rows are allocated here, not at first use: kernels fill them from parallel row jobs,
    /// and a lazily created array could be created twice, with one row's maxima written into the array that lost.
    /// </remarks>
    public RowSupport(int rows, int rowLength)
    {
        _counts = new int[rows];
        _maxima = new float[rows];
        _maximumKnown = new bool[rows];
        _blocksKnown = new bool[rows];
        _ids = new int[rows * Capacity];
        _blockRowLength = rowLength;
        _blockMaxima = rowLength >= BlockMaxima.RowMinimum ? new float[rows * BlockMaxima.Count(rowLength)] : null;
        ForgetAll();
    }

    /// <summary>Forgets everything about every row.</summary>
    public void ForgetAll()
    {
        if (_counts.Length <= 4)
        {
            // Every pipeline call does this twice: for a few rows, plain stores cost less than three bulk clears.
            for (int row = 0; row < _counts.Length; row++)
            {
                Forget(row);
            }

            return;
        }

        _counts.AsSpan().Fill(-1);
        _maximumKnown.AsSpan().Clear();
        _blocksKnown.AsSpan().Clear();
    }

    /// <summary>Forgets everything about one row (after a write the kernels cannot follow).</summary>
    public void Forget(int row)
    {
        _counts[row] = -1;
        _maximumKnown[row] = false;
        _blocksKnown[row] = false;
    }

    /// <summary>The row's support, if known (ascending ids; every other entry is −∞).</summary>
    public bool TryGetSupport(int row, out ReadOnlySpan<int> ids)
    {
        int count = _counts[row];
        if (count < 0)
        {
            ids = default;
            return false;
        }

        ids = _ids.AsSpan(row * Capacity, count);
        return true;
    }

    /// <summary>The row's slots, to be filled by a mask kernel and then published with <see cref="SetSupport"/>.</summary>
    public Span<int> Slots(int row) => _ids.AsSpan(row * Capacity, Capacity);

    /// <summary>Publishes the first <paramref name="count"/> slots as the row's support (−1: unknown).</summary>
    public void SetSupport(int row, int count)
    {
        _counts[row] = count;
        _maximumKnown[row] = false;
        _blocksKnown[row] = false;
    }

    /// <summary>The row's maximum, if a kernel computed it since the row was last written.</summary>
    public bool TryGetMaximum(int row, out float maximum)
    {
        maximum = _maxima[row];
        return _maximumKnown[row];
    }

    /// <summary>Records the row's (checked) maximum.</summary>
    public void SetMaximum(int row, float maximum)
    {
        _maxima[row] = maximum;
        _maximumKnown[row] = true;
        _blocksKnown[row] = false;
    }

    /// <summary>Forgets the row's maximum (its values changed, its support did not grow).</summary>
    public void ForgetMaximum(int row)
    {
        _maximumKnown[row] = false;
        _blocksKnown[row] = false;
    }

    /// <summary>
    /// The slots of a row's block maxima, to be filled by the checking pass and published with
    /// <see cref="SetMaximumWithBlocks"/>; empty when the row is too short for them (or not the batch's row length).
    /// </summary>
    public Span<float> BlockMaximaSlots(int row, int rowLength)
    {
        if (t_blocksDisabled || BlockMaximaDisabled || _blockMaxima is null || rowLength != _blockRowLength)
        {
            return Span<float>.Empty;
        }

        int blocks = BlockMaxima.Count(rowLength);
        return _blockMaxima.AsSpan(row * blocks, blocks);
    }

    /// <summary>Records the row's (checked) maximum and the block maxima written to <see cref="BlockMaximaSlots"/> in the same pass.</summary>
    public void SetMaximumWithBlocks(int row, float maximum)
    {
        _maxima[row] = maximum;
        _maximumKnown[row] = true;
        _blocksKnown[row] = true;
    }

    /// <summary>
    /// Applies a mask below <paramref name="threshold"/> to the row's block maxima (a block below it is all −∞); the
    /// caller then publishes them again with <see cref="SetMaximumWithBlocks"/>.
    /// </summary>
    public void MaskBlockMaxima(int row, float threshold)
    {
        int blocks = BlockMaxima.Count(_blockRowLength);
        foreach (ref float maximum in _blockMaxima.AsSpan(row * blocks, blocks))
        {
            if (maximum < threshold)
            {
                maximum = float.NegativeInfinity;
            }
        }
    }

    /// <summary>The row's block maxima (<see cref="BlockMaxima"/>), if taken with its current maximum.</summary>
    public bool TryGetBlockMaxima(int row, out ReadOnlySpan<float> maxima)
    {
        if (!_blocksKnown[row] || _blockMaxima is null)
        {
            maxima = default;
            return false;
        }

        int blocks = BlockMaxima.Count(_blockRowLength);
        maxima = _blockMaxima.AsSpan(row * blocks, blocks);
        return true;
    }

    /// <summary>Copies the supported entries of <paramref name="row"/> into a pooled array the caller returns.</summary>
    public static float[] Gather(ReadOnlySpan<float> row, ReadOnlySpan<int> ids)
    {
        var compact = ArrayPool<float>.Shared.Rent(Math.Max(1, ids.Length));
        for (int j = 0; j < ids.Length; j++)
        {
            compact[j] = row[ids[j]];
        }

        return compact;
    }

    /// <summary>Writes the compact values back to their ids.</summary>
    public static void Scatter(ReadOnlySpan<float> compact, ReadOnlySpan<int> ids, Span<float> row)
    {
        for (int j = 0; j < ids.Length; j++)
        {
            row[ids[j]] = compact[j];
        }
    }

    /// <summary>
    /// Runs a row reduction on the supported entries only (gathered into a pooled compact array), with errors
    /// naming the real token id. The caller maps a returned position through <paramref name="ids"/>.
    /// </summary>
    public static T Reduce<TReduction, T>(ReadOnlySpan<float> row, ReadOnlySpan<int> ids, int rowIndex, TReduction reduction)
        where TReduction : struct, IRowReduction<T>
    {
        var compact = Gather(row, ids);
        try
        {
            return reduction.Run(compact.AsSpan(0, ids.Length), rowIndex);
        }
        catch (InvalidLogitsException error)
        {
            throw Remap(error, ids);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(compact);
        }
    }

    /// <summary>Re-throws an error raised on compact values with the token id it stands for.</summary>
    public static InvalidLogitsException Remap(InvalidLogitsException error, ReadOnlySpan<int> ids) =>
        new(error.Row, ids[error.TokenIndex], error.Value, error.Stage);
}

/// <summary>A row routine that reads a row and returns one value (run on compact values by <see cref="RowSupport.Reduce"/>).</summary>
/// <typeparam name="T">The result type.</typeparam>
internal interface IRowReduction<out T>
{
    /// <summary>Runs the routine on <paramref name="x"/>, reporting errors as row <paramref name="row"/>.</summary>
    T Run(ReadOnlySpan<float> x, int row);
}

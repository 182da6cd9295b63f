using System.Runtime.ExceptionServices;
using Logits.Processing;
using Logits.Tensors.Cpu;

namespace Logits.Pipelines;

/// <summary>
/// Row-blocked execution of a pipeline call on the CPU backend: the whole chain (entry check, every processor, the
/// selector) runs on one block of rows at a time, blocks spread over the cores, so each row is read from memory about
/// once instead of once per step (docs/algorithms/conventions.md#batches-on-the-cpu).
/// </summary>
/// <remarks>
/// <para>A block is a view of consecutive rows (<see cref="CpuLogitBatch.Blocks"/>) whose <c>RowOffset</c> tells the
/// built-in steps where its rows sit in the whole batch: they read per-row parameters (<see cref="PerRow{T}"/>), random
/// streams and selector state at <c>RowOffset + r</c>, and the contexts are the block's slice of the caller's list.
/// Each block runs its chain on one thread; its kernels stay serial because the blocks hold the row workers.</para>
/// <para>Results are those of the step-by-step run, bit for bit: every row's chain reads only that row. Errors too: each
/// block stops at its first failing step, and the one reported is the failure of the earliest step, lowest row first,
/// with the row index of the whole batch, which is what the step-by-step run throws. After an error the batch's rows are
/// unspecified, as before (blocks other than the failing one may have run further).</para>
/// <para>Used only when every step supports it (built-in processors other than those that call out to other models or
/// user callbacks; built-in selectors), the batch is a <see cref="CpuLogitBatch"/> not already inside a pipeline call,
/// and it spans more than one block; otherwise the call runs step by step as before.</para>
/// </remarks>
internal static class RowBlocks
{
    /// <summary>
    /// The bytes of logits a block holds: half the 1 MiB L2 cache of current server cores, so a block and the kernels'
    /// scratch stay in L2 across the chain. A row longer than that is a block of one row.
    /// </summary>
    public const int BlockBytes = 512 * 1024;

    private static readonly bool DisabledBySwitch = AppContext.TryGetSwitch("Logits.Cpu.DisableRowBlocks", out bool disabled) && disabled;

    [ThreadStatic]
    private static int t_blockRows;

    /// <summary>Tests: the number of blocks the last call on this thread ran in (0: it ran step by step).</summary>
    [ThreadStatic]
    internal static int LastCallBlocksOnThisThread;

    /// <summary>
    /// Tests: on this thread, 0 sizes blocks by <see cref="BlockBytes"/>, a positive value forces that many rows per
    /// block, -1 runs every call step by step.
    /// </summary>
    internal static void SetBlockRowsOnThisThread(int blockRows) => t_blockRows = blockRows;

    /// <summary>The rows per block for a row of <paramref name="vocab"/> logits; 0 when blocking is off.</summary>
    internal static int BlockRows(int vocab)
    {
        if (DisabledBySwitch || t_blockRows < 0)
        {
            return 0;
        }

        return t_blockRows > 0 ? t_blockRows : (int)Math.Max(1, BlockBytes / ((long)vocab * sizeof(float)));
    }

    /// <summary>
    /// Runs the call row-blocked if it may (see the remarks); returns false, having done nothing, when it must run step by
    /// step (including every invalid call, so the step-by-step path raises its usual errors).
    /// </summary>
    public static bool TryRun(LogitPipeline pipeline, LogitBatch logits, IReadOnlyList<SamplingContext>? contexts, Span<int> destination, bool select, bool skipArgmaxInvariant)
    {
        LastCallBlocksOnThisThread = 0;
        if (logits is not CpuLogitBatch batch || contexts is null || !pipeline.RunsInRowBlocks(select)
            || batch.InPipelineCall || batch.WholeRows != batch.Rows || batch.Rows < 2)
        {
            return false;
        }

        int rows = batch.Rows;
        int blockRows = BlockRows(batch.Vocab);
        if (blockRows <= 0 || blockRows >= rows || contexts.Count != rows || (select && destination.Length < rows))
        {
            return false;
        }

        for (int r = 0; r < rows; r++)
        {
            if (contexts[r] is null)
            {
                return false;
            }
        }

        pipeline.PrepareRowBlocks(rows, select);
        var call = batch.BlockCall ??= new RowBlockCall();
        var blocks = batch.Blocks(blockRows);
        LastCallBlocksOnThisThread = blocks.Length;
        call.Start(pipeline, blocks, contexts, select, skipArgmaxInvariant, RowSupport.Enabled, RowSupport.BlockMaximaDisabledOnThisThread);
        try
        {
            // The blocks claim the row workers, so the kernels inside a block find them busy and stay serial.
            RowRunner.Run(blocks.Length, blockRows * batch.Vocab, new BlockJob(call));
            call.ThrowFirstFailure();
            if (select)
            {
                call.Tokens.AsSpan(0, rows).CopyTo(destination);
            }
        }
        finally
        {
            call.Clear();

            // The call consumed the maxima CopyRowFrom remembered, as a step-by-step call does.
            batch.ForgetEntryMaxima();
        }

        return true;
    }

    private readonly struct BlockJob : IRowJob
    {
        private readonly RowBlockCall _call;

        public BlockJob(RowBlockCall call) => _call = call;

        public void Run(int row) => _call.RunBlock(row);
    }
}

/// <summary>The state of one row-blocked call, cached on its batch (a batch serves one call at a time).</summary>
internal sealed class RowBlockCall
{
    private LogitPipeline? _pipeline;
    private CpuLogitBatch[] _blocks = Array.Empty<CpuLogitBatch>();
    private ContextBlock[] _contexts = Array.Empty<ContextBlock>();
    private int[] _stages = Array.Empty<int>();
    private Exception?[] _failures = Array.Empty<Exception?>();
    private bool _select;
    private bool _skipArgmaxInvariant;

    /// <summary>One token per row of the whole batch, written by the blocks' selectors.</summary>
    public int[] Tokens { get; private set; } = Array.Empty<int>();

    public void Start(LogitPipeline pipeline, CpuLogitBatch[] blocks, IReadOnlyList<SamplingContext> contexts, bool select, bool skipArgmaxInvariant, bool tracksSupport, bool blockMaximaDisabled)
    {
        if (_contexts.Length != blocks.Length || !ReferenceEquals(_blocks, blocks))
        {
            _contexts = new ContextBlock[blocks.Length];
            for (int b = 0; b < blocks.Length; b++)
            {
                _contexts[b] = new ContextBlock(blocks[b].RowOffset, blocks[b].Rows);
            }

            _stages = new int[blocks.Length];
            _failures = new Exception?[blocks.Length];
            _blocks = blocks;
        }

        int rows = blocks[^1].RowOffset + blocks[^1].Rows;
        if (Tokens.Length < rows)
        {
            Tokens = new int[rows];
        }

        foreach (var block in blocks)
        {
            block.BlockTracksSupport = tracksSupport;
            block.BlockDisablesBlockMaxima = blockMaximaDisabled;
        }

        foreach (var slice in _contexts)
        {
            slice.Source = contexts;
        }

        Array.Clear(_failures);
        _pipeline = pipeline;
        _select = select;
        _skipArgmaxInvariant = skipArgmaxInvariant;
    }

    /// <summary>Runs block <paramref name="index"/>'s chain; a failure is recorded with its step, never thrown here.</summary>
    public void RunBlock(int index)
    {
        var block = _blocks[index];
        int stage = -1;
        try
        {
            _pipeline!.RunBlock(block, _contexts[index], _select, _skipArgmaxInvariant, Tokens.AsSpan(block.RowOffset, block.Rows), ref stage);
        }
#pragma warning disable CA1031 // Rethrown by the caller: the failure the step-by-step run would raise.
        catch (Exception error)
#pragma warning restore CA1031
        {
            _stages[index] = stage;
            _failures[index] = error;
        }
    }

    /// <summary>
    /// Throws what the step-by-step run would: the failure of the earliest step, at the lowest row, with the row index of
    /// the whole batch.
    /// </summary>
    public void ThrowFirstFailure()
    {
        int best = -1;
        int bestStage = 0;
        int bestRow = 0;
        for (int b = 0; b < _failures.Length; b++)
        {
            if (_failures[b] is not { } error)
            {
                continue;
            }

            int row = _blocks[b].RowOffset + (RowOf(error) ?? 0);
            if (best < 0 || _stages[b] < bestStage || (_stages[b] == bestStage && row < bestRow))
            {
                best = b;
                bestStage = _stages[b];
                bestRow = row;
            }
        }

        if (best < 0)
        {
            return;
        }

        var failure = _failures[best]!;
        int offset = _blocks[best].RowOffset;
        if (offset != 0)
        {
            switch (failure)
            {
                case InvalidLogitsException invalid when RowOf(invalid) is not null:
                    throw new InvalidLogitsException(invalid.Row + offset, invalid.TokenIndex, invalid.Value, invalid.Stage);
                case NoViableTokenException empty when RowOf(empty) is not null:
                    throw new NoViableTokenException(empty.Row + offset, empty.Stage);
            }
        }

        ExceptionDispatchInfo.Capture(failure).Throw();
    }

    /// <summary>Drops the references to the caller's contexts and the pipeline until the next call.</summary>
    public void Clear()
    {
        _pipeline = null;
        foreach (var slice in _contexts)
        {
            slice.Source = null;
        }

        Array.Clear(_failures);
    }

    /// <summary>The block row an error names, or null for an error that names none (built from a message).</summary>
    private static int? RowOf(Exception error) => error switch
    {
        InvalidLogitsException { Stage: not "unknown" } invalid => invalid.Row,
        NoViableTokenException { Stage: not "unknown" } empty => empty.Row,
        _ => null,
    };

    /// <summary>A block's slice of the caller's contexts: element <c>r</c> is the caller's <c>offset + r</c>.</summary>
    private sealed class ContextBlock : IReadOnlyList<SamplingContext>
    {
        private readonly int _offset;

        public ContextBlock(int offset, int count)
        {
            _offset = offset;
            Count = count;
        }

        public IReadOnlyList<SamplingContext>? Source { get; set; }

        public int Count { get; }

        public SamplingContext this[int index]
        {
            get
            {
                if ((uint)index >= (uint)Count)
                {
                    ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"must be in [0, {Count})");
                }

                return Source![_offset + index];
            }
        }

        public IEnumerator<SamplingContext> GetEnumerator()
        {
            for (int i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

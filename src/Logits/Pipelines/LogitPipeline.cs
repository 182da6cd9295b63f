using Logits.Processing;
using Logits.Selection;

namespace Logits.Pipelines;

/// <summary>An explicit, ordered list of processors ending in exactly one selector.</summary>
/// <remarks>
/// <para>The order is the user's: presets only pre-fill the list. Every call first
/// checks the logits (NaN/<c>+∞</c> throw <see cref="InvalidLogitsException"/> with stage <c>"input"</c>);
/// with <see cref="CheckEveryStage"/> (Checked mode) each processor's output is checked too, and every failure
/// is attributed to the processor by its <see cref="ILogitProcessor.Name"/>: an overflow inside one of its
/// kernels (temperature 1e-4 on logits of 1e35 reports stage <c>"temperature"</c>, not the kernel's
/// <c>"scale"</c>), a NaN/<c>+∞</c> it wrote, and a row it left with no finite logit
/// (<see cref="NoViableTokenException"/> with its name, not the selector's <c>"sample"</c>; a row that was
/// already all <c>-∞</c> on entry is left to the selector).</para>
/// <para>With a <see cref="GreedySelector"/>, <see cref="Sample(LogitBatch, IReadOnlyList{SamplingContext}, Span{int})"/>
/// skips the argmax-invariant processors (they cannot change the argmax); <see cref="Process"/> always runs every
/// processor, so it returns what the processors make.</para>
/// <para>A pipeline holding stateful processors or a seeded selector is not thread-safe: give each
/// thread or sequence group its own <see cref="Clone"/>.</para>
/// <para>On the CPU backend, a batch larger than one row block (about 512 KB of logits) runs the whole chain block by
/// block, blocks spread over the cores, so each row is read from memory about once per call; tokens, logits, state and
/// errors are exactly those of the step-by-step run. Pipelines with a processor or selector from outside this library,
/// guidance, rectification or an allowed-tokens callback run step by step (docs/algorithms/conventions.md#batches-on-the-cpu).</para>
/// </remarks>
public sealed class LogitPipeline
{
    private readonly ILogitProcessor[] _processors;

    /// <summary>Creates a pipeline.</summary>
    /// <param name="processors">The processors, run in this order.</param>
    /// <param name="selector">The selector that ends the pipeline.</param>
    /// <param name="checkEveryStage">Re-check for NaN/<c>+∞</c> after every processor (Checked mode).</param>
    /// <exception cref="ArgumentNullException">An argument or a processor is null.</exception>
    public LogitPipeline(IEnumerable<ILogitProcessor> processors, ITokenSelector selector, bool checkEveryStage = false)
    {
        ArgumentNullException.ThrowIfNull(processors);
        ArgumentNullException.ThrowIfNull(selector);
        var list = new List<ILogitProcessor>();
        foreach (var processor in processors)
        {
            if (processor is null)
            {
                ThrowHelper.ThrowArgument(nameof(processors), "holds a null processor.");
            }

            list.Add(processor);
        }

        _processors = list.ToArray();
        Selector = selector;
        CheckEveryStage = checkEveryStage;
        _processorsRunInBlocks = Array.TrueForAll(_processors, p => p is LogitProcessor { SupportsRowBlocks: true });
        _selectorRunsInBlocks = selector is GreedySelector or SeededSelector;
    }

    /// <summary>Whether every processor is a built-in one that reads per-row parameters and state at its block's offset.</summary>
    private readonly bool _processorsRunInBlocks;

    /// <summary>Whether the selector is a built-in one that reads its per-row state at its block's offset.</summary>
    private readonly bool _selectorRunsInBlocks;

    /// <summary>The processors, in order.</summary>
    public IReadOnlyList<ILogitProcessor> Processors => _processors;

    /// <summary>The selector.</summary>
    public ITokenSelector Selector { get; }

    /// <summary>Whether every processor's output is checked for NaN/<c>+∞</c> (Checked mode).</summary>
    public bool CheckEveryStage { get; }

    /// <summary>Starts a fluent definition.</summary>
    /// <returns>A new builder.</returns>
    public static LogitPipelineBuilder CreateBuilder() => new();

    [ThreadStatic]
    private static SamplingContext[]? t_singleContext;

    /// <summary>Runs every processor on <paramref name="logits"/> in place (no selection).</summary>
    /// <param name="logits">The batch.</param>
    /// <param name="contexts">One context per row.</param>
    /// <remarks>Every processor runs, whatever the selector: with a greedy selector only
    /// <see cref="Sample(LogitBatch, IReadOnlyList{SamplingContext}, Span{int})"/> skips the argmax-invariant ones.</remarks>
    /// <exception cref="ArgumentException"><paramref name="contexts"/> does not have one context per row, or holds null.</exception>
    /// <exception cref="InvalidLogitsException">A logit is NaN or <c>+∞</c> on entry (or, in Checked mode, after a stage).</exception>
    /// <exception cref="NoViableTokenException">In Checked mode, a processor left a row with no finite logit.</exception>
    public void Process(LogitBatch logits, IReadOnlyList<SamplingContext> contexts)
    {
        if (!RowBlocks.TryRun(this, logits, contexts, Span<int>.Empty, select: false, skipArgmaxInvariant: false))
        {
            Run(logits, contexts, skipArgmaxInvariant: false);
        }
    }

    /// <summary>Whether a call may run row-blocked (see <see cref="RowBlocks"/>): every step is built-in and supports it.</summary>
    internal bool RunsInRowBlocks(bool select) => _processorsRunInBlocks && (!select || _selectorRunsInBlocks);

    /// <summary>Prepares the per-row state of every step for a row-blocked call on a batch of <paramref name="rows"/> rows.</summary>
    internal void PrepareRowBlocks(int rows, bool select)
    {
        foreach (var processor in _processors)
        {
            ((LogitProcessor)processor).PrepareRowBlocks(rows);
        }

        if (select && Selector is SeededSelector seeded)
        {
            seeded.PrepareRowBlocks(rows);
        }
    }

    /// <summary>
    /// The whole chain on one row block (a view of some rows of the batch, see <see cref="RowBlocks"/>): exactly what
    /// <see cref="Run"/> and <see cref="Sample(LogitBatch, IReadOnlyList{SamplingContext}, Span{int})"/> do on the whole
    /// batch, restricted to the block's rows. <paramref name="stage"/> tells the caller which step was running when an
    /// exception left: -1 the entry check, <c>i</c> processor <c>i</c>, <c>Processors.Count</c> the selector.
    /// </summary>
    internal void RunBlock(CpuLogitBatch block, IReadOnlyList<SamplingContext> contexts, bool select, bool skipArgmaxInvariant, Span<int> destination, ref int stage)
    {
        stage = -1;
        block.EnterPipelineCall();
        int[]? emptyOnEntry = null;
        try
        {
            if (CheckEveryStage)
            {
                emptyOnEntry = LogitProcessorBuffers.RentInts(block.Rows);
            }

            Check(block, "input", emptyOnEntry);
            for (int i = 0; i < _processors.Length; i++)
            {
                var processor = _processors[i];
                if (skipArgmaxInvariant && processor.IsArgmaxInvariant)
                {
                    continue;
                }

                stage = i;
                if (emptyOnEntry is null)
                {
                    processor.Process(block, contexts);
                }
                else
                {
                    ProcessChecked(processor, block, contexts, emptyOnEntry);
                }
            }

            if (select)
            {
                stage = _processors.Length;
                Selector.SelectTokens(block, contexts, destination);
            }
        }
        finally
        {
            if (emptyOnEntry is not null)
            {
                LogitProcessorBuffers.Return(emptyOnEntry);
            }

            block.ExitPipelineCall();
        }
    }

    private void Run(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, bool skipArgmaxInvariant)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(contexts);
        if (contexts.Count != logits.Rows)
        {
            ThrowHelper.ThrowArgument(nameof(contexts), $"has {contexts.Count} contexts but the batch has {logits.Rows} rows.");
        }

        for (int row = 0; row < contexts.Count; row++)
        {
            if (contexts[row] is null)
            {
                ThrowHelper.ThrowArgument(nameof(contexts), $"holds null for row {row}; every row needs a SamplingContext.");
            }
        }

        logits.EnterPipelineCall();
        int[]? emptyOnEntry = null;
        try
        {
            if (CheckEveryStage)
            {
                emptyOnEntry = LogitProcessorBuffers.RentInts(logits.Rows);
            }

            Check(logits, "input", emptyOnEntry);
            foreach (var processor in _processors)
            {
                if (skipArgmaxInvariant && processor.IsArgmaxInvariant)
                {
                    continue;
                }

                if (emptyOnEntry is null)
                {
                    processor.Process(logits, contexts);
                }
                else
                {
                    ProcessChecked(processor, logits, contexts, emptyOnEntry);
                }
            }
        }
        finally
        {
            if (emptyOnEntry is not null)
            {
                LogitProcessorBuffers.Return(emptyOnEntry);
            }

            logits.ExitPipelineCall();
        }
    }

    /// <summary>
    /// Checked mode: the stage's input was checked, so whatever fails inside it or in its output is the
    /// processor's doing and carries its name.
    /// </summary>
    private static void ProcessChecked(ILogitProcessor processor, LogitBatch logits, IReadOnlyList<SamplingContext> contexts, int[] emptyOnEntry)
    {
        try
        {
            processor.Process(logits, contexts);

            // Inside the try: a backend that deferred a check made within the stage (to its next host read) throws it
            // here, and it is the stage's too.
            Check(logits, processor.Name, emptyOnEntry);
        }
        catch (InvalidLogitsException error) when (error.Stage != processor.Name)
        {
            throw new InvalidLogitsException(error.Row, error.TokenIndex, error.Value, processor.Name);
        }
        catch (NoViableTokenException error) when (error.Stage != processor.Name)
        {
            throw new NoViableTokenException(error.Row, processor.Name);
        }
    }

    /// <summary>Processes <paramref name="logits"/> in place, selects one token per row, and tells stateful steps.</summary>
    /// <param name="logits">The batch (modified in place).</param>
    /// <param name="contexts">One context per row.</param>
    /// <param name="destination">One token id per row.</param>
    /// <exception cref="InvalidLogitsException">A logit is NaN or <c>+∞</c>.</exception>
    /// <exception cref="NoViableTokenException">A row has no finite logit left.</exception>
    public void Sample(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(logits);

        // A greedy selector only needs the argmax: processors that cannot move it are skipped here.
        bool skipArgmaxInvariant = Selector is GreedySelector;
        if (!RowBlocks.TryRun(this, logits, contexts, destination, select: true, skipArgmaxInvariant))
        {
            logits.EnterPipelineCall();
            try
            {
                Run(logits, contexts, skipArgmaxInvariant);
                Selector.SelectTokens(logits, contexts, destination);
            }
            finally
            {
                logits.ExitPipelineCall();
            }
        }

        for (int r = 0; r < logits.Rows; r++)
        {
            foreach (var processor in _processors)
            {
                (processor as IStatefulSampler)?.Accept(r, destination[r]);
            }

            (Selector as IStatefulSampler)?.Accept(r, destination[r]);
        }
    }

    /// <summary>Samples one token for a single-row batch.</summary>
    /// <param name="logits">A batch of one row (modified in place).</param>
    /// <param name="context">The row's context.</param>
    /// <returns>The selected token id.</returns>
    public int Sample(LogitBatch logits, SamplingContext context)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(context);
        if (logits.Rows != 1)
        {
            ThrowHelper.ThrowArgument(nameof(logits), $"has {logits.Rows} rows; this overload takes a single row.");
        }

        // One cached one-element list per thread: no allocation per call (a nested call, e.g. from a logit
        // source running its own pipeline on this thread, finds it in use and allocates its own).
        var single = t_singleContext ??= new SamplingContext[1];
        if (single[0] is not null)
        {
            single = new SamplingContext[1];
        }

        single[0] = context;
        Span<int> token = stackalloc int[1];
        try
        {
            Sample(logits, single, token);
        }
        finally
        {
            single[0] = null!;
        }

        return token[0];
    }

    /// <summary>Returns every stateful step to its construction state.</summary>
    public void Reset()
    {
        foreach (var processor in _processors)
        {
            (processor as IStatefulSampler)?.Reset();
        }

        (Selector as IStatefulSampler)?.Reset();
    }

    /// <summary>A pipeline with deep copies of every stateful step (stateless steps are shared).</summary>
    /// <returns>The copy.</returns>
    public LogitPipeline Clone()
    {
        var processors = new ILogitProcessor[_processors.Length];
        for (int i = 0; i < processors.Length; i++)
        {
            processors[i] = _processors[i] is IStatefulSampler stateful ? (ILogitProcessor)stateful.Clone() : _processors[i];
        }

        var selector = Selector is IStatefulSampler statefulSelector ? (ITokenSelector)statefulSelector.Clone() : Selector;
        return new LogitPipeline(processors, selector, CheckEveryStage);
    }

    /// <summary>
    /// One checked max pass (the pipeline's one entry check: processors trust it, see
    /// <c>LogitBatch.EntriesChecked</c>); a NaN/+inf found after a stage is attributed to that stage. With
    /// <paramref name="emptyOnEntry"/> (Checked mode), the input pass records the rows that are all <c>-∞</c>, and
    /// a later pass throws <see cref="NoViableTokenException"/> for a row the stage emptied.
    /// </summary>
    private static void Check(LogitBatch logits, string stage, int[]? emptyOnEntry)
    {
        if (emptyOnEntry is null)
        {
            // The entry check outside Checked mode needs no maxima on the host: a backend may defer it (see
            // LogitBatch.CheckEntriesForPipeline).
            logits.CheckEntriesForPipeline();
            return;
        }

        int rows = logits.Rows;
        var maxima = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            logits.Kernels.RowMax(logits, maxima.AsSpan(0, rows));
            logits.MarkEntriesChecked();
            if (emptyOnEntry is not null)
            {
                for (int row = 0; row < rows; row++)
                {
                    bool empty = float.IsNegativeInfinity(maxima[row]);
                    if (stage == "input")
                    {
                        emptyOnEntry[row] = empty ? 1 : 0;
                    }
                    else if (empty && emptyOnEntry[row] == 0)
                    {
                        ThrowHelper.ThrowNoViableToken(row, stage);
                    }
                }
            }
        }
        catch (InvalidLogitsException error) when (stage != "input")
        {
            throw new InvalidLogitsException(error.Row, error.TokenIndex, error.Value, stage);
        }
        finally
        {
            LogitProcessorBuffers.Return(maxima);
        }
    }
}

using System.Runtime.ExceptionServices;

namespace Logits.Tensors.Cpu;

/// <summary>The work of one row of a CPU kernel; a struct so the serial loop inlines it.</summary>
internal interface IRowJob
{
    void Run(int row);
}

/// <summary>Runs a row job over every row: serially for small batches, in parallel for large ones.</summary>
/// <remarks>
/// The parallel path is a small fork-join of its own rather than <c>Parallel.For</c>, which allocated about 24 KB
/// per call (closures, loop state, task objects) on a batch of 64 rows: the calling thread and
/// <c>Environment.ProcessorCount − 1</c> dedicated background workers (<see cref="RowWorkers"/>) claim rows one at
/// a time from a shared counter, through a work object cached per calling thread and job type, so a steady
/// stream of kernel calls allocates nothing. The caller works too; a worker that has not picked the call up by
/// the time the caller has run every row is simply withdrawn, so an oversubscribed machine delays nothing beyond
/// the serial time. One parallel call uses the workers at a time; a concurrent one runs serially on its own
/// thread. <c>DOTNET_PROCESSOR_COUNT=1</c> makes every call serial.
/// </remarks>
internal static class RowRunner
{
    /// <summary>Batches with fewer elements than this run on the calling thread (parallel overhead dominates).</summary>
    public const long ParallelElementThreshold = 1 << 17;

    public static void Run<TJob>(int rows, int vocab, TJob job)
        where TJob : struct, IRowJob
    {
        if (rows == 1 || (long)rows * vocab < ParallelElementThreshold || Environment.ProcessorCount == 1 || !RowWorkers.TryAcquire())
        {
            for (int r = 0; r < rows; r++)
            {
                job.Run(r);
            }

            return;
        }

        var work = ForkJoin<TJob>.ForThisThread();
        try
        {
            work.Start(rows, job);
            RowWorkers.Run(work);
            work.ThrowIfFailed();
        }
        finally
        {
            work.Clear();
            RowWorkers.Release();
        }
    }

    /// <summary>One parallel kernel call of one job type: a row counter and the lowest failure.</summary>
    private sealed class ForkJoin<TJob> : RowWork
        where TJob : struct, IRowJob
    {
        [ThreadStatic]
        private static ForkJoin<TJob>? t_instance;

        private readonly object _gate = new();
        private TJob _job;
        private int _rows;
        private int _nextRow;
        private int _failedRow;
        private Exception? _failure;

        /// <summary>The calling thread's instance (no worker holds it once <see cref="RowWorkers.Run"/> returned).</summary>
        public static ForkJoin<TJob> ForThisThread() => t_instance ??= new ForkJoin<TJob>();

        public void Start(int rows, TJob job)
        {
            _job = job;
            _rows = rows;
            _nextRow = 0;
            _failedRow = int.MaxValue;
            _failure = null;
        }

        /// <summary>Claims and runs rows until none is left; every row runs even after another row failed.</summary>
        public override void RunRows()
        {
            int row;
            while ((row = Interlocked.Increment(ref _nextRow) - 1) < _rows)
            {
                try
                {
                    _job.Run(row);
                }
#pragma warning disable CA1031 // Rethrown by the caller: the lowest row's exception, with its original stack trace.
                catch (Exception error)
#pragma warning restore CA1031
                {
                    Record(row, error);
                }
            }
        }

        public void ThrowIfFailed()
        {
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Capture(_failure).Throw();
            }
        }

        /// <summary>Drops the job's references (its memory and pooled arrays) until the next call.</summary>
        public void Clear()
        {
            _job = default;
            _failure = null;
        }

        private void Record(int row, Exception error)
        {
            // Parallel rows may fail in any order; the lowest row is reported, exactly as the serial loop would.
            lock (_gate)
            {
                if (row < _failedRow)
                {
                    _failedRow = row;
                    _failure = error;
                }
            }
        }
    }
}

/// <summary>Work that several threads run together until it is exhausted.</summary>
internal abstract class RowWork
{
    /// <summary>Runs parts of the work until none is left; safe to call from several threads at once.</summary>
    public abstract void RunRows();
}

/// <summary>
/// <c>Environment.ProcessorCount − 1</c> background threads that help the calling thread run a <see cref="RowWork"/>.
/// </summary>
internal static class RowWorkers
{
    private static Worker[]? s_workers;
    private static int s_busy;

    /// <summary>Takes the workers for one call; false while another thread's call holds them.</summary>
    public static bool TryAcquire() => Interlocked.CompareExchange(ref s_busy, 1, 0) == 0;

    /// <summary>Gives the workers back after <see cref="Run"/>.</summary>
    public static void Release() => Volatile.Write(ref s_busy, 0);

    /// <summary>
    /// Runs <paramref name="work"/> on the calling thread and the workers; returns when it is exhausted and no
    /// worker touches it any more.
    /// </summary>
    public static void Run(RowWork work)
    {
        var workers = s_workers ??= CreateWorkers();
        foreach (var worker in workers)
        {
            worker.Post(work);
        }

        work.RunRows();
        foreach (var worker in workers)
        {
            worker.WithdrawOrWait();
        }
    }

    private static Worker[] CreateWorkers()
    {
        var workers = new Worker[Math.Max(0, Environment.ProcessorCount - 1)];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = new Worker(i);
        }

        return workers;
    }

    /// <summary>One background thread: waits for posted work, runs it, signals that it is done.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Design",
        "CA1001",
        Justification = "Workers live as long as the process.")]
    private sealed class Worker
    {
        private readonly SemaphoreSlim _posted = new(0);
        private readonly ManualResetEventSlim _finished = new(false);
        private RowWork? _work;

        public Worker(int index)
        {
            var thread = new Thread(Loop)
            {
                IsBackground = true,
                Name = $"Logits row worker {index}",
            };
            thread.Start();
        }

        public void Post(RowWork work)
        {
            _finished.Reset();
            Volatile.Write(ref _work, work);
            _posted.Release();
        }

        /// <summary>Takes the work back if the worker has not picked it up; otherwise waits until it is done with it.</summary>
        public void WithdrawOrWait()
        {
            if (Interlocked.Exchange(ref _work, null) is null)
            {
                _finished.Wait();
            }
        }

        private void Loop()
        {
            while (true)
            {
                _posted.Wait();

                // A withdrawn post leaves a stale signal: the exchange then finds nothing and the loop waits again.
                var work = Interlocked.Exchange(ref _work, null);
                if (work is not null)
                {
                    work.RunRows();
                    _finished.Set();
                }
            }
        }
    }
}

using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Logits.Tensors.Cpu;

/// <summary>The work of one row of a CPU kernel; a struct so the serial loop inlines it.</summary>
internal interface IRowJob
{
    void Run(int row);
}

/// <summary>Runs a row job over every row: serially for small batches, in parallel for large ones.</summary>
/// <remarks>
/// The parallel path is a small fork-join of its own rather than <c>Parallel.For</c>, which allocated about 24 KB
/// per call (closures, loop state, task objects) on a batch of 64 rows: the calling thread and up to
/// <c>Environment.ProcessorCount − 1</c> thread-pool helpers claim rows one at a time from a shared counter
/// (rows of a batch cost about the same, and per-row claiming balances the rest), using a work item that is
/// pooled per calling thread and job type, so a steady stream of kernel calls allocates nothing. The caller
/// works too and waits only for rows that helpers have claimed, so a busy thread pool delays nothing beyond
/// the serial time. <c>DOTNET_PROCESSOR_COUNT=1</c> makes every call serial.
/// </remarks>
internal static class RowRunner
{
    /// <summary>Batches with fewer elements than this run on the calling thread (parallel overhead dominates).</summary>
    public const long ParallelElementThreshold = 1 << 17;

    public static void Run<TJob>(int rows, int vocab, TJob job)
        where TJob : struct, IRowJob
    {
        if (rows == 1 || (long)rows * vocab < ParallelElementThreshold || Environment.ProcessorCount == 1)
        {
            for (int r = 0; r < rows; r++)
            {
                job.Run(r);
            }

            return;
        }

        RunParallel(rows, job);
    }

    private static void RunParallel<TJob>(int rows, TJob job)
        where TJob : struct, IRowJob
    {
        var work = ForkJoin<TJob>.Rent();
        try
        {
            work.Start(rows, job, helpers: Math.Min(Environment.ProcessorCount, rows) - 1);
            work.RunRows();
            work.WaitForClaimedRows();
            work.ThrowIfFailed();
        }
        finally
        {
            work.Release();
        }
    }

    /// <summary>One parallel kernel call: a row counter, completion tracking and the lowest failure.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage(
        "Design",
        "CA1001",
        Justification = "Instances live for their thread (cached); the event never creates its kernel wait handle, so there is nothing to release.")]
    private sealed class ForkJoin<TJob> : IThreadPoolWorkItem
        where TJob : struct, IRowJob
    {
        [ThreadStatic]
        private static ForkJoin<TJob>? t_cached;

        private readonly ManualResetEventSlim _allRowsDone = new(false);
        private readonly object _gate = new();
        private TJob _job;
        private int _rows;
        private int _nextRow;
        private int _rowsLeft;
        private int _helpersRunning;
        private int _failedRow;
        private Exception? _failure;

        /// <summary>The calling thread's cached instance if no helper of an earlier call still holds it.</summary>
        public static ForkJoin<TJob> Rent()
        {
            var cached = t_cached;
            if (cached is not null && Volatile.Read(ref cached._helpersRunning) == 0)
            {
                t_cached = null;
                return cached;
            }

            return new ForkJoin<TJob>();
        }

        public void Start(int rows, TJob job, int helpers)
        {
            _job = job;
            _rows = rows;
            _nextRow = 0;
            _rowsLeft = rows;
            _failedRow = int.MaxValue;
            _failure = null;
            _allRowsDone.Reset();
            for (int h = 0; h < helpers; h++)
            {
                Interlocked.Increment(ref _helpersRunning);
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        /// <summary>Thread-pool entry of a helper.</summary>
        public void Execute()
        {
            try
            {
                RunRows();
            }
            finally
            {
                Interlocked.Decrement(ref _helpersRunning);
            }
        }

        /// <summary>Claims and runs rows until none is left; every row runs even after another row failed.</summary>
        public void RunRows()
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

                if (Interlocked.Decrement(ref _rowsLeft) == 0)
                {
                    _allRowsDone.Set();
                }
            }
        }

        /// <summary>Blocks until every row has run (rows claimed by helpers may still be running).</summary>
        public void WaitForClaimedRows()
        {
            if (Volatile.Read(ref _rowsLeft) != 0)
            {
                _allRowsDone.Wait();
            }
        }

        public void ThrowIfFailed()
        {
            if (_failure is not null)
            {
                ExceptionDispatchInfo.Capture(_failure).Throw();
            }
        }

        /// <summary>Drops the job's references and caches the instance for the calling thread's next call.</summary>
        public void Release()
        {
            _job = default;
            _failure = null;
            t_cached = this;
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

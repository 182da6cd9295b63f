using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace Logits.Tensors.Cpu;

/// <summary>The work of one row of a CPU kernel; a struct so the serial loop inlines it.</summary>
internal interface IRowJob
{
    void Run(int row);
}

/// <summary>Runs a row job over every row: serially for small batches, in parallel for large ones.</summary>
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

    /// <summary>
    /// The parallel path, in its own method: the lambda captures <paramref name="job"/>, and a closure over a
    /// parameter is allocated on entry to the method that declares it, which must not be the serial path.
    /// </summary>
    private static void RunParallel<TJob>(int rows, TJob job)
        where TJob : struct, IRowJob
    {
        // Every row runs even after a failure (Parallel.For would stop scheduling rows after the first
        // exception, so a failure in row 3 could hide one in row 2); the lowest failing row is reported,
        // exactly as the serial loop would report it.
        var failures = new Failures();
        Parallel.For(0, rows, row =>
        {
            try
            {
                job.Run(row);
            }
#pragma warning disable CA1031 // Rethrown below: the lowest row's exception, with its original stack trace.
            catch (Exception error)
#pragma warning restore CA1031
            {
                failures.Record(row, error);
            }
        });
        failures.ThrowIfAny();
    }

    /// <summary>The failure of the lowest row, collected from parallel row jobs.</summary>
    private sealed class Failures
    {
        private readonly object _gate = new();
        private int _row = int.MaxValue;
        private Exception? _error;

        public void Record(int row, Exception error)
        {
            lock (_gate)
            {
                if (row < _row)
                {
                    _row = row;
                    _error = error;
                }
            }
        }

        public void ThrowIfAny()
        {
            if (_error is not null)
            {
                ExceptionDispatchInfo.Capture(_error).Throw();
            }
        }
    }
}

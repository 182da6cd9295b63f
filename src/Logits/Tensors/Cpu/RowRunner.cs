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

        try
        {
            Parallel.For(0, rows, job.Run);
        }
        catch (AggregateException aggregate)
        {
            // Report what the serial loop would have reported: the failure of the lowest row.
            Exception first = aggregate.InnerExceptions[0];
            int firstRow = int.MaxValue;
            foreach (Exception inner in aggregate.InnerExceptions)
            {
                int row = inner switch
                {
                    InvalidLogitsException invalid => invalid.Row,
                    NoViableTokenException empty => empty.Row,
                    _ => int.MaxValue - 1,
                };
                if (row < firstRow)
                {
                    firstRow = row;
                    first = inner;
                }
            }

            ExceptionDispatchInfo.Capture(first).Throw();
        }
    }
}

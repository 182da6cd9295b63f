using System.Threading;
using FluentAssertions;
using Logits.Tensors.Cpu;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The parallel path's guarantees. These tests run alone (<see cref="RowWorkersTestGroup"/>): the row workers serve
/// one parallel call at a time, and a call that finds them busy with another test's kernels runs serially, where the
/// first failing row is the lowest one and the loop stops there (a correct report, but not the path under test).
/// </summary>
[Collection(RowWorkersTestGroup.Name)]
public sealed class RowRunnerTests
{
    private sealed class Counter
    {
        public int Runs;
    }

    private readonly struct FailingJob(Counter counter, int firstBad, int secondBad) : IRowJob
    {
        public void Run(int row)
        {
            Interlocked.Increment(ref counter.Runs);
            if (row == firstBad || row >= secondBad)
            {
                throw new InvalidLogitsException(row, 0, float.NaN, "input");
            }
        }
    }

    [Fact]
    public void The_parallel_path_runs_every_row_and_reports_the_lowest_failure()
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var counter = new Counter();
            const int rows = 512;
            var job = new FailingJob(counter, firstBad: 300, secondBad: 2);
            FluentActions.Invoking(() => RowRunner.Run(rows, 4096, job))
                .Should().Throw<InvalidLogitsException>().Which.Row.Should().Be(2);
            counter.Runs.Should().Be(rows, "a failure must not stop the other rows, or a lower failing row could go unseen");
        }
    }
}

/// <summary>Tests that need the CPU row workers to themselves: no other test class runs in parallel with them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RowWorkersTestGroup
{
    public const string Name = "row workers";
}

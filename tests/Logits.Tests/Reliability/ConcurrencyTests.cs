using System;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Reliability;

/// <summary>
/// Concurrency (issue 9): immutable processors are shared by 16 threads, each with its own clone of a
/// seeded pipeline (the documented rule for stateful steps); results equal the single-threaded run.
/// </summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public void Sixteen_threads_sharing_processors_match_the_single_threaded_run()
    {
        const int vocab = 4097;
        const int steps = 30;
        var data = LogitData.Random(1, vocab, 31);
        var template = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
        {
            Seed = 5, RepetitionPenalty = 1.2, FrequencyPenalty = 0.3, DryMultiplier = 0.8, XtcProbability = 0.5, TypicalP = 0.95,
        });

        int[] Run(LogitPipeline pipeline)
        {
            var tokens = new int[steps];
            var history = new int[steps + 4];
            var context = new SamplingContext();
            var token = new int[1];
            for (int step = 0; step < steps; step++)
            {
                context.SetHistory(history.AsMemory(0, step + 4), 4);
                using var batch = CpuLogitBatch.FromRows(data, 1, vocab);
                pipeline.Sample(batch, new[] { context }, token);
                tokens[step] = token[0];
                history[step + 4] = token[0];
            }

            return tokens;
        }

        var expected = Run(template.Clone());
        var results = new int[16][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, t => results[t] = Run(template.Clone()));
        foreach (var result in results)
        {
            result.Should().Equal(expected);
        }

        // Stateless processors really are shared, not copied, by the clones.
        var clone = template.Clone();
        clone.Processors.Where(p => p is not IStatefulSampler).Should().OnlyContain(p => template.Processors.Contains(p));
    }
}

using System;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Pipelines;

/// <summary>The CPU pipeline allocates nothing per call in steady state (DESIGN quality bar).</summary>
[Collection(AllocationTestGroup.Name)]
public sealed class PipelineAllocationTests
{
    [Theory]
    [InlineData(32000)]
    [InlineData(128256)]
    public void The_default_llama_cpp_chain_allocates_nothing_per_call_after_warm_up(int vocab)
    {
        var data = LogitData.Random(1, vocab, 9);
        using var batch = CpuLogitBatch.FromRows(data, 1, vocab);
        var pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 1 });
        var contexts = SamplingContext.ForRows(1);
        var tokens = new int[1];
        for (int warm = 0; warm < 5; warm++)
        {
            batch.CopyFrom(data);
            pipeline.Sample(batch, contexts, tokens);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int call = 0; call < 20; call++)
        {
            batch.CopyFrom(data);
            pipeline.Sample(batch, contexts, tokens);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }
}

using System;
using FluentAssertions;
using LLama.Native;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Xunit;

namespace Logits.LLamaSharp.Tests.Sampling;

/// <summary>
/// Measures the bytes its own thread allocates, so it runs alone: another test renting from the shared ArrayPool at
/// the same moment (or a collection that trims the pool) can make a steady-state rent allocate.
/// </summary>
[Collection(AllocationTestGroup.Name)]
public class LogitsSamplingPipelineAllocationTests
{
    [Fact]
    public void SampledTokensAreCommittedAndTheDefaultChainAllocatesNothingPerTokenAfterWarmUp()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        using var sampler = new LogitsSamplingPipeline(SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 7, RepetitionPenalty = 1.1, PenaltyLastN = 64 }));
        var prompt = LlamaTestHelpers.Tokenize(context, "abc def ghi");
        sampler.SetPrompt(prompt);
        var batch = new LLamaBatch();
        int index = LlamaTestHelpers.DecodePrompt(context, prompt, batch);
        long allocated = 0;
        // Warm-up: the first call sizes the buffers, and the pooled arrays of the penalty window reach their size once
        // the history holds more than the 64-token window.
        const int WarmUp = 80;
        for (int step = 0; step < WarmUp + 50; step++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            int token = (int)sampler.Sample(context.NativeHandle, index);
            long after = GC.GetAllocatedBytesForCurrentThread();
            if (step >= WarmUp)
            {
                allocated += after - before;
            }

            sampler.History.Span[^1].Should().Be(token);
            index = LlamaTestHelpers.DecodeOne(context, token, prompt.Length + step, batch);
        }

        sampler.History.Length.Should().Be(prompt.Length + WarmUp + 50);
        sampler.PromptLength.Should().Be(prompt.Length);
        allocated.Should().Be(0, "50 steady-state calls of the default chain must not allocate");
    }
}

/// <summary>Tests that must not run in parallel with any other test class.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationTestGroup
{
    public const string Name = "allocation";
}

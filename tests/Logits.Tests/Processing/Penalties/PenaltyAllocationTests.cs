using System;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Penalties.PenaltyTestSupport;

namespace Logits.Tests.Processing.Penalties;

/// <summary>The CPU penalty processors allocate nothing per call in steady state.</summary>
[Collection(AllocationTestGroup.Name)]
public sealed class PenaltyAllocationTests
{
    public static TheoryData<string> ProcessorNames() => new() { "repetition", "normalize", "frequency", "penalties", "dry", "ngram" };

    private static ILogitProcessor Build(string name) => name switch
    {
        "repetition" => new RepetitionPenaltyProcessor(1.3, window: 64),
        "normalize" => new RepetitionPenaltyProcessor(1.3, normalizeFirst: true),
        "frequency" => new FrequencyPresencePenaltyProcessor(0.5, 0.3, PenaltyScope.PromptAndOutput),
        "penalties" => new PenaltiesProcessor(1.3, 0.5, 0.3),
        "dry" => new DryProcessor(0.8, sequenceBreakers: new[] { 7 }),
        _ => new NoRepeatNGramProcessor(3),
    };

    [Theory]
    [MemberData(nameof(ProcessorNames))]
    public void Steady_state_processing_allocates_nothing(string name)
    {
        const int Rows = 4;
        const int Vocab = 4097;
        var data = LogitData.Random(Rows, Vocab, 5);
        var rng = new Random(3);
        var histories = new int[Rows][];
        for (int r = 0; r < Rows; r++)
        {
            histories[r] = RandomHistory(rng, Vocab, 300);
        }

        var contexts = Contexts(histories);
        var processor = Build(name);
        using var batch = CpuLogitBatch.FromRows(data, Rows, Vocab);
        for (int warmup = 0; warmup < 5; warmup++)
        {
            batch.CopyFrom(data);
            processor.Process(batch, contexts);
        }

        batch.CopyFrom(data);
        long before = GC.GetAllocatedBytesForCurrentThread();
        processor.Process(batch, contexts);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0, $"{name} should rent every buffer from the pool");
    }
}

using System;
using System.Collections.Generic;
using FluentAssertions;
using Logits.Tests.Infrastructure;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Processing.Constraints;

/// <summary>The CPU path of the fixed-parameter constraint processors allocates nothing per call in steady state.</summary>
[Collection(AllocationTestGroup.Name)]
public sealed class ConstraintsAllocationTests
{
    public static TheoryData<string> Processors() => new()
    {
        "logit-bias", "sequence-bias", "bad-words", "allowed-tokens", "min-length", "min-new-tokens",
        "forced-bos", "forced-eos", "decay", "normalization", "suppress", "suppress-at-begin",
    };

    private static ILogitProcessor Build(string name) => name switch
    {
        "logit-bias" => new LogitBiasProcessor(new Dictionary<int, double> { [1] = 2, [7] = -1 }),
        "sequence-bias" => new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 3 }, 1f), new SequenceBias(new[] { 2, 3 }, -1f), new SequenceBias(new[] { 1, 3 }, 0.5f) }),
        "bad-words" => new BadWordsProcessor(new[] { new[] { 4 }, new[] { 2, 5 }, new[] { 0 } }),
        "allowed-tokens" => new AllowedTokensProcessor(new[] { 1, 5, 9 }),
        "min-length" => new MinLengthProcessor(10),
        "min-new-tokens" => new MinNewTokensProcessor(10, new[] { 3 }),
        "forced-bos" => new ForcedBosProcessor(2),
        "forced-eos" => new ForcedEosProcessor(4),
        "decay" => new ExponentialDecayLengthPenaltyProcessor(0, 1.5),
        "normalization" => LogitNormalizationProcessor.Instance,
        "suppress" => new SuppressTokensProcessor(new[] { 6 }),
        _ => new SuppressTokensAtBeginProcessor(new[] { 6 }, 1),
    };

    [Theory]
    [MemberData(nameof(Processors))]
    public void Steady_state_process_allocates_nothing(string name)
    {
        const int Rows = 3;
        const int Vocab = 50;
        var values = new float[Rows * Vocab];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (i % 17) * 0.1f;
        }

        var processor = Build(name);
        var history = new[] { 1, 2, 3 };
        var contexts = SamplingContext.ForRows(Rows, new[] { 0, 1 });
        foreach (var context in contexts)
        {
            context.SetHistory(history, 2);
        }

        var batch = CpuLogitBatch.FromRows(values, Rows, Vocab);
        for (int warm = 0; warm < 3; warm++)
        {
            batch.CopyFrom(values);
            processor.Process(batch, contexts);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            batch.CopyFrom(values);
            processor.Process(batch, contexts);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, $"{name} should allocate nothing per call");
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Guidance;
using Logits.Tensors;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;

namespace Logits.TorchSharp.Tests.Processing.Guidance;

/// <summary>The constraint and guidance processors leave no live tensors on the torch path (CFG creates one batch per call).</summary>
public sealed class TorchConstraintsLeakTests
{
    private sealed class Provider : IUnconditionalLogitsProvider
    {
        private readonly float[] _values;

        public Provider(float[] values) => _values = values;

        public void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination) => destination.CopyFrom(_values);
    }

    [Fact]
    public void Processors_leave_no_live_tensors_on_success_or_failure()
    {
        const int rows = 3, vocab = 40;
        var data = Enumerable.Range(0, rows * vocab).Select(i => (float)Math.Sin(i) * 3).ToArray();
        data[5] = float.NegativeInfinity;
        var uncond = data.Reverse().ToArray();
        uncond[vocab + 2] = float.NegativeInfinity;
        var bad = data.Select((v, i) => i == 50 ? float.NaN : v).ToArray();
        var contexts = SamplingContext.ForRows(rows, new[] { 0, 3 });
        foreach (var context in contexts)
        {
            context.SetHistory(new[] { 1, 2 }, 1);
        }

        var processors = new ILogitProcessor[]
        {
            new ClassifierFreeGuidanceProcessor(1.5f, new Provider(uncond)),
            new ClassifierFreeGuidanceProcessor(3f, new Provider(data)),
            new LogitBiasProcessor(new Dictionary<int, double> { [1] = 2 }),
            new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 2, 3 }, -1f) }),
            new AllowedTokensProcessor(new[] { 1, 2, 3, 4 }),
            new ForcedEosProcessor(3),
            new ExponentialDecayLengthPenaltyProcessor(0, 2),
            LogitNormalizationProcessor.Instance,
        };
        var failing = new ClassifierFreeGuidanceProcessor(2f, new Provider(bad));

        void RunAll()
        {
            foreach (var processor in processors)
            {
                using var batch = TorchLogitBatch.FromArray(data, rows, vocab);
                processor.Process(batch, contexts);
            }

            using var target = TorchLogitBatch.FromArray(data, rows, vocab);
            Assert.Throws<InvalidLogitsException>(() => failing.Process(target, contexts));
        }

        RunAll();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            RunAll();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Generation;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Rectification;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>Fused generation (docs/algorithms/paper-methods.md#fused-inference): the decoding state, the language model and the rectification pipeline.</summary>
public sealed class CopilotGenerationTests
{
    private const int Vocab = 10, PilotWidth = 12;

    private static CopilotDecoder RandomCopilot(int seed) => CopilotDecoder.Create(
        new CopilotOptions { VocabSize = Vocab, PilotWidth = PilotWidth, Width = 16, Layers = 4, Heads = 2 }, seed,
        m =>
        {
            // Larger output weights than the default init, so corrections matter in the comparisons below.
            using var noGrad = no_grad();
            m.OutputProjection.weight!.TimesInPlace(20);
        });

    private static CopilotDecoder ZeroCopilot()
    {
        var copilot = RandomCopilot(1);
        using var noGrad = no_grad();
        copilot.OutputProjection.weight!.zero_();
        copilot.OutputProjection.bias!.zero_();
        return copilot;
    }

    [Fact]
    public void Zero_copilot_generates_exactly_the_pilots_tokens()
    {
        using var pilot = CopilotJointTrainerTests.NewPilot(2);
        using var copilot = ZeroCopilot();
        using var fused = new CopilotLanguageModel<FakePilot>(pilot, copilot);
        var plain = new PilotLanguageModel(pilot);
        var options = new GenerationOptions { MaxNewTokens = 5 };
        var prompt = new[] { 1, 2, 3 };
        foreach (var mode in new[] { CopilotFusionMode.Probability, CopilotFusionMode.Logit })
        {
            var greedyFused = new TokenGenerator(fused, LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, 1f, mode)).Greedy(), options).Generate(prompt);
            var greedyPlain = new TokenGenerator(plain, LogitPipeline.CreateBuilder().Greedy(), options).Generate(prompt);
            greedyFused.Tokens.Should().Equal(greedyPlain.Tokens, mode.ToString());
            greedyFused.Tokens.Should().HaveCount(5);
        }

        // Sampling: logit mode writes z + λ·0 = z exactly, so the seeded sampler draws the same tokens.
        for (ulong seed = 0; seed < 4; seed++)
        {
            var sampledFused = new TokenGenerator(fused, LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, 1f, CopilotFusionMode.Logit)).Temperature(1.5f).Multinomial(seed), options).Generate(prompt);
            var sampledPlain = new TokenGenerator(plain, LogitPipeline.CreateBuilder().Temperature(1.5f).Multinomial(seed), options).Generate(prompt);
            sampledFused.Tokens.Should().Equal(sampledPlain.Tokens);
        }
    }

    [Fact]
    public void Nonzero_copilot_rectifies_the_generated_tokens()
    {
        using var pilot = CopilotJointTrainerTests.NewPilot(3);
        using var copilot = RandomCopilot(4);
        using var fused = new CopilotLanguageModel<FakePilot>(pilot, copilot);
        var options = new GenerationOptions { MaxNewTokens = 5 };
        var prompts = Enumerable.Range(0, 6).Select(p => new[] { p, (p + 3) % Vocab }).ToArray();
        int differing = 0;
        foreach (var prompt in prompts)
        {
            var rectified = new TokenGenerator(fused, LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, 1f)).Greedy(), options).Generate(prompt);
            var alone = new TokenGenerator(fused, LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, 0f)).Greedy(), options).Generate(prompt);
            differing += rectified.Tokens.SequenceEqual(alone.Tokens) ? 0 : 1;
        }

        differing.Should().BeGreaterThan(0, "a correction of this size changes some greedy choices");
    }

    [Fact]
    public void Step_by_step_corrections_equal_the_teacher_forced_copilot_fed_its_own_outputs()
    {
        using var pilot = CopilotJointTrainerTests.NewPilot(5);
        using var copilot = RandomCopilot(6);
        using var fused = new CopilotLanguageModel<FakePilot>(pilot, copilot);
        var contexts = new List<int>[] { new() { 1, 2, 3 }, new() { 4, 5 } };
        var appended = new[] { new[] { 7, 0, 2, 9 }, new[] { 3, 3, 8, 1 } };
        using var logits = fused.CreateLogitBatch(2);
        for (int step = 0; step <= 4; step++)
        {
            fused.NextTokenLogits(contexts.Select(c => (ReadOnlyMemory<int>)c.ToArray()).ToArray(), logits);
            if (step < 4)
            {
                contexts[0].Add(appended[0][step]);
                contexts[1].Add(appended[1][step]);
            }
        }

        for (int r = 0; r < 2; r++)
        {
            int m = r == 0 ? 3 : 2, n = 5, s = m + n - 1;
            fused.State.PromptLength(r).Should().Be(m);
            fused.State.CorrectionCount(r).Should().Be(n);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var stepwise = fused.State.Corrections(r).unsqueeze(0);
            var ids = contexts[r].Select(x => (long)x).ToArray();
            using var output = pilot.Forward(tensor(ids, new long[] { 1, ids.Length }));
            var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
            var memory = cat(new[] { output.Embeddings.narrow(1, 0, s), pooled.narrow(1, 0, s) }, 1);
            copilot.eval();
            var teacherForced = copilot.TeacherForced(stepwise, memory, CopilotDecoder.MemoryMask(new[] { m }, new[] { n }, n, s));
            (teacherForced - stepwise).abs().max().item<float>().Should().BeLessThan(1e-5f, $"row {r}");
            stepwise.abs().max().item<float>().Should().BeGreaterThan(1e-2f);

            // The model's logits are the Pilot's last-position logits.
            var last = output.Logits[0][ids.Length - 1];
            var written = ((TorchLogitBatch)logits).Tensor[r];
            written.allclose(last, 0, 0).Should().BeTrue();
        }

        // A context that does not extend the previous one starts a fresh state with m = its length.
        fused.NextTokenLogits(new ReadOnlyMemory<int>[] { new[] { 9, 8, 7, 6 }, contexts[1].ToArray() }, logits);
        fused.State.PromptLength(0).Should().Be(4);
        fused.State.CorrectionCount(0).Should().Be(1);
        fused.State.CorrectionCount(1).Should().Be(5, "the same context again is a re-query");

        // A correction requested for a context the state has not seen is refused.
        var wrong = SamplingContext.ForRows(1);
        wrong[0].SetHistory(new[] { 9, 8, 7, 6, 5 }, 4);
        using var correction = fused.CreateLogitBatch(1);
        FluentActions.Invoking(() => fused.CorrectionSource.FillLogits(wrong, correction)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Fused_generation_leaks_no_tensors_per_step()
    {
        using var pilot = CopilotJointTrainerTests.NewPilot(7);
        using var copilot = RandomCopilot(8);
        using var fused = new CopilotLanguageModel<FakePilot>(pilot, copilot);
        var pipeline = LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource)).TopK(5).Multinomial(3);
        var generator = new TokenGenerator(fused, pipeline, new GenerationOptions { MaxNewTokens = 5 });
        generator.Generate(new[] { 1, 2 });
        fused.Reset();
        using var logits = fused.CreateLogitBatch(1);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var contexts = SamplingContext.ForRows(1);
        var history = new List<int> { 3, 4 };
        var token = new int[1];
        long? steady = null;
        for (int step = 0; step < 5; step++)
        {
            var context = history.ToArray();
            fused.NextTokenLogits(new ReadOnlyMemory<int>[] { context }, logits);
            contexts[0].SetHistory(context, 2);
            pipeline.Sample(logits, contexts, token);
            history.Add(token[0]);
            long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            steady ??= live;
            live.Should().Be(steady.Value, $"step {step}: {DisposeScopeManager.Statistics}");
        }

        fused.Reset();
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
        generator.Generate(new[] { 1, 2 });
        fused.Reset();
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "a whole generation leaves nothing behind");
    }
}

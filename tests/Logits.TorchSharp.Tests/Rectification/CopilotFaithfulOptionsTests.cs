using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Optimization;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>
/// The options that make the Copilot trainer follow the paper (issue 17): warm-up + cosine schedules, initialisation from
/// the Pilot's blocks, cross-attention in every layer, the unbounded Mistake Log and Eq. 7's reduction.
/// </summary>
public sealed class CopilotFaithfulOptionsTests
{
    [Fact]
    public void Warmup_cosine_factor_has_the_hand_computed_values_at_known_steps()
    {
        var schedule = new WarmupCosineSchedule(warmupSteps: 10, totalSteps: 110, minimumFactor: 0.1);
        var expected = new (int Step, double Factor)[]
        {
            (1, 0.1), (5, 0.5), (10, 1.0),
            (35, 0.1 + (0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.25)))), // 0.868198
            (60, 0.55), (85, 0.1 + (0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.75)))), // 0.231802
            (110, 0.1), (500, 0.1),
        };
        foreach (var (step, factor) in expected)
        {
            schedule.Factor(step).Should().BeApproximately(factor, 1e-12, $"step {step}");
        }

        schedule.Factor(35).Should().BeApproximately(0.868198, 1e-6);
        var noWarmup = new WarmupCosineSchedule(0, 4);
        noWarmup.Factor(1).Should().BeApproximately(0.5 * (1 + Math.Cos(Math.PI / 4)), 1e-12);
        noWarmup.Factor(4).Should().Be(0);

        // Monotone: up during warm-up, down afterwards.
        var factors = Enumerable.Range(1, 120).Select(schedule.Factor).ToArray();
        factors.Take(10).Should().BeInAscendingOrder();
        factors.Skip(9).Should().BeInDescendingOrder();

        FluentActions.Invoking(() => new WarmupCosineSchedule(0, 0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("totalSteps");
        FluentActions.Invoking(() => new WarmupCosineSchedule(5, 5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("warmupSteps");
        FluentActions.Invoking(() => new WarmupCosineSchedule(-1, 5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("warmupSteps");
        FluentActions.Invoking(() => new WarmupCosineSchedule(1, 5, 1.5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("minimumFactor");
        FluentActions.Invoking(() => schedule.Factor(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("step");
    }

    [Fact]
    public void Trainer_applies_each_schedule_to_its_own_optimizer_every_step()
    {
        using var pilot = CopilotJointTrainerTests.NewPilot(3);
        using var copilot = CopilotJointTrainerTests.NewCopilot(4);
        var options = new CopilotTrainerOptions
        {
            PilotLearningRate = 2e-3,
            CopilotLearningRate = 1e-3,
            PilotSchedule = new WarmupCosineSchedule(2, 6),
            CopilotSchedule = new WarmupCosineSchedule(3, 6, 0.5),
        };
        var seen = new List<CopilotTrainingProgress>();
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot, options);
        trainer.Train(CopilotJointTrainerTests.Batches(5).Take(8), new CopilotJointTrainerTests.SynchronousProgress(seen.Add));
        seen.Should().HaveCount(8);
        foreach (var p in seen)
        {
            p.PilotLearningRate.Should().BeApproximately(2e-3 * options.PilotSchedule.Factor(p.Step), 1e-15, $"step {p.Step}");
            p.CopilotLearningRate.Should().BeApproximately(1e-3 * options.CopilotSchedule.Factor(p.Step), 1e-15, $"step {p.Step}");
        }

        seen[1].PilotLearningRate.Should().Be(2e-3);
        seen[^1].CopilotLearningRate.Should().BeApproximately(5e-4, 1e-15);

        // With a schedule the weights differ from a constant-rate run on the same batches.
        using var constantPilot = CopilotJointTrainerTests.NewPilot(3);
        using (var constant = new CopilotJointTrainer<FakePilot>(constantPilot, null, new CopilotTrainerOptions { PilotLearningRate = 2e-3 }))
        {
            constant.Train(CopilotJointTrainerTests.Batches(5).Take(8));
        }

        pilot.parameters().Zip(constantPilot.parameters()).Should().Contain(p => !p.First.allclose(p.Second, 0, 0));
    }

    [Fact]
    public void Copy_from_pilot_copies_the_named_block_weights_and_keeps_the_projections_and_cross_attention()
    {
        var pilotOptions = new DecoderTransformerOptions { VocabSize = 9, MaxSequenceLength = 8, Width = 8, Heads = 2, Layers = 3 };
        using var pilot = DecoderTransformer.Create(pilotOptions, 5);
        using (no_grad())
        {
            // Non-trivial values everywhere (a fresh Pilot has zero biases and unit norm weights, which would copy "by chance").
            var generator = new Generator(77);
            foreach (var parameter in pilot.parameters())
            {
                parameter.copy_(randn(parameter.shape, generator: generator));
            }
        }

        var options = new CopilotOptions { VocabSize = 9, PilotWidth = 8, Width = 8, Layers = 2, Heads = 2 };
        using var fresh = CopilotDecoder.Create(options, seed: 3);
        using var copilot = CopilotDecoder.Create(options, seed: 3);
        var copied = copilot.CopyFromPilot(pilot, new[] { 2, 0 });

        // Layer l copies block [2, 0][l]: q, k, v are the row blocks of the fused QKV projection.
        int[] map = { 2, 0 };
        for (int l = 0; l < 2; l++)
        {
            var source = pilot.BlockWeights(map[l]);
            var layer = copilot.LayerAt(l);
            var self = layer.SelfAttention!;
            Same(self.Query.weight!, source.Qkv.weight!.narrow(0, 0, 8));
            Same(self.Key.weight!, source.Qkv.weight!.narrow(0, 8, 8));
            Same(self.Value.weight!, source.Qkv.weight!.narrow(0, 16, 8));
            Same(self.Query.bias!, source.Qkv.bias!.narrow(0, 0, 8));
            Same(self.Value.bias!, source.Qkv.bias!.narrow(0, 16, 8));
            Same(self.Projection.weight!, source.Output.weight!);
            Same(self.Norm.Gain, source.AttentionNorm.weight!);
            Same(layer.FeedForwardNorm.Gain, source.MlpNorm.weight!);
            Same(layer.Up.weight!, source.Up.weight!);
            Same(layer.Down.bias!, source.Down.bias!);

            // The cross-attention has no counterpart in a decoder-only Pilot: it keeps its seeded weights.
            var cross = layer.CrossAttention!;
            var freshCross = fresh.LayerAt(l).CrossAttention!;
            Same(cross.Query.weight!, freshCross.Query.weight!);
            Same(cross.Key.weight!, freshCross.Key.weight!);
        }

        Same(copilot.FinalNorm.Gain, pilot.FinalNormWeight);
        Same(copilot.InputProjection.weight!, fresh.InputProjection.weight!);
        Same(copilot.OutputProjection.weight!, fresh.OutputProjection.weight!);
        copied.Should().HaveCount((2 * 14) + 1).And.Contain("layers.0.self.query.weight ← blocks.2.qkv.weight[0:d]").And.Contain("norm.gain ← final_norm.weight");

        // Default map: blocks 0, 1; a narrower Copilot copies nothing whose shape differs (only what fits).
        using var defaultMap = CopilotDecoder.Create(options, seed: 3);
        defaultMap.CopyFromPilot(pilot).Should().Contain("layers.1.ffn.up.weight ← blocks.1.mlp.up.weight");
        using var narrow = CopilotDecoder.Create(new CopilotOptions { VocabSize = 9, PilotWidth = 8, Width = 4, Layers = 1, Heads = 2 }, seed: 3);
        narrow.CopyFromPilot(pilot).Should().BeEmpty();
        FluentActions.Invoking(() => copilot.CopyFromPilot(pilot, new[] { 0 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("pilotLayers");
        FluentActions.Invoking(() => copilot.CopyFromPilot(pilot, new[] { 0, 3 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("pilotLayers");

        static void Same(Tensor actual, Tensor expected) =>
            actual.allclose(expected, 0, 0).Should().BeTrue();
    }

    [Fact]
    public void Every_layer_cross_attends_by_default_and_alternates_when_asked()
    {
        var every = new CopilotOptions { VocabSize = 5, PilotWidth = 6, Width = 8, Layers = 3, Heads = 2 };
        every.Layout.Should().Be(CopilotLayerLayout.CrossAttentionInEveryLayer);
        using var a = CopilotDecoder.Create(every, seed: 1);
        Enumerable.Range(0, 3).Should().OnlyContain(l => a.LayerAt(l).SelfAttention != null && a.LayerAt(l).CrossAttention != null);

        using var b = CopilotDecoder.Create(new CopilotOptions { VocabSize = 5, PilotWidth = 6, Width = 8, Layers = 3, Heads = 2, Layout = CopilotLayerLayout.Alternating }, seed: 1);
        b.LayerAt(0).CrossAttention.Should().BeNull();
        b.LayerAt(1).SelfAttention.Should().BeNull();
        b.LayerAt(1).CrossAttention.Should().NotBeNull();
        b.LayerAt(2).CrossAttention.Should().BeNull();

        // Behaviour: in every layer the cross-attention reads the memory. Zeroing one layer's cross-attention output
        // projection changes f^C, for each layer in turn; a one-layer Copilot reads the memory too.
        manual_seed(4);
        using var input = rand(1, 3, 5);
        using var memory = randn(1, 8, 6);
        using var mask = CopilotDecoder.MemoryMask(new[] { 2 }, new[] { 3 }, 3, 4);
        a.eval();
        using var reference = a.forward(input, memory, mask);
        for (int l = 0; l < 3; l++)
        {
            using var changed = CopilotDecoder.Create(every, seed: 1);
            changed.eval();
            using (no_grad())
            {
                changed.LayerAt(l).CrossAttention!.Projection.weight!.zero_();
            }

            using var output = changed.forward(input, memory, mask);
            (output - reference).abs().max().item<float>().Should().BeGreaterThan(1e-5f, $"layer {l} cross-attends");
        }

        using var single = CopilotDecoder.Create(new CopilotOptions { VocabSize = 5, PilotWidth = 6, Width = 8, Layers = 1, Heads = 2 }, seed: 2);
        single.eval();
        using var first = single.forward(input, memory, mask);
        using var otherMemory = memory.Plus(1.0);
        using var second = single.forward(input, otherMemory, mask);
        (first - second).abs().max().item<float>().Should().BeGreaterThan(1e-5f);
    }

    [Fact]
    public void Eq7_root_sum_square_matches_a_hand_computed_value_and_is_the_default()
    {
        // B = 2, n = 2, V = 2. Errors: sequence 0 (1, 2), (0, 2) → S₀ = 9; sequence 1 (3, 4) and a masked position.
        using var prediction = tensor(new float[] { 1, 2, 0, 2, 3, 4, 100, -100 }, new long[] { 2, 2, 2 });
        using var target = zeros(2, 2, 2);
        using var mask = tensor(new[] { true, true, true, false }, new long[] { 2, 2 });

        // Eq. 7 per sequence: √9 = 3 and √25 = 5; averaged over the batch: 4.
        using var rss = CopilotMath.CopilotLoss(prediction, target, mask);
        rss.item<float>().Should().BeApproximately(4f, 1e-6f);

        // The per-entry mean for comparison: √(34 / (3 positions · 2)).
        using var rms = CopilotMath.CopilotLoss(prediction, target, mask, CopilotLossReduction.RootMeanSquare);
        rms.item<float>().Should().BeApproximately((float)Math.Sqrt(34.0 / 6), 1e-6f);

        // Batch size 1 is exactly Eq. 7, sqrt(Σ_i ‖f − ℓ‖²).
        using var one = CopilotMath.CopilotLoss(prediction.narrow(0, 0, 1), target.narrow(0, 0, 1), mask.narrow(0, 0, 1));
        one.item<float>().Should().BeApproximately(3f, 1e-6f);
        new CopilotTrainerOptions().LossReduction.Should().Be(CopilotLossReduction.RootSumSquare);
    }

    [Fact]
    public void Unbounded_log_keeps_every_recorded_sequence_and_reports_its_size()
    {
        new CopilotTrainerOptions().MistakeLogCapacity.Should().Be(MistakeLog.Unbounded);
        using var pilot = CopilotJointTrainerTests.NewPilot(7);
        using var copilot = CopilotJointTrainerTests.NewCopilot(8);
        var seen = new List<CopilotTrainingProgress>();
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot);
        var batches = CopilotJointTrainerTests.Batches(9, batchSize: 6).Take(40).ToList();
        trainer.Train(batches, new CopilotJointTrainerTests.SynchronousProgress(seen.Add));

        var log = trainer.MistakeLog!;
        log.IsBounded.Should().BeFalse();
        log.Count.Should().Be(240, "40 steps of 6 sequences, none evicted");
        log.Appended.Should().Be(240);
        seen.Select(p => p.MistakeLogCount).Should().Equal(Enumerable.Range(1, 40).Select(s => 6 * s));
        seen[^1].MistakeLogBytes.Should().Be(log.StoredBytes).And.BePositive();

        // Every entry, in order: the lengths of the recorded sequences are the batches' lengths.
        var recorded = log.Entries.Select(e => (e.PromptLength, e.TargetLength)).ToList();
        var expected = batches.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => (b.PromptLength(i), b.TargetLength(i)))).ToList();
        recorded.Should().Equal(expected);
        long bytes = batches.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => MistakeLog.EstimateEntryBytes(b.PromptLength(i), b.TargetLength(i), 10, 12))).Sum();
        log.StoredBytes.Should().Be(bytes);

        // A bounded log, by contrast, evicts.
        using var bounded = new MistakeLog(capacity: 5);
        bounded.IsBounded.Should().BeTrue();
    }
}

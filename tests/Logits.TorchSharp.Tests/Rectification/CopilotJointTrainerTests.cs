using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using FluentAssertions;
using Logits.TorchSharp.Rectification;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>The joint trainer (docs/algorithms/paper-methods.md#joint-training): recording, Copilot learning, Pilot independence, cancellation, checkpoints.</summary>
public sealed class CopilotJointTrainerTests
{
    private const int Vocab = 10, PilotWidth = 12, MaxLength = 8;

    /// <summary>A tiny task: a prompt of 3 digits in [0, 8) and the target "the prompt reversed".</summary>
    internal static IEnumerable<CopilotTrainingBatch> Batches(int seed, int batchSize = 8, int[]? fixedTargets = null)
    {
        var random = new Random(seed);
        while (true)
        {
            var sequences = new List<IReadOnlyList<int>>();
            var prompts = new List<int>();
            for (int b = 0; b < batchSize; b++)
            {
                int length = 2 + random.Next(2);
                var prompt = Enumerable.Range(0, length).Select(_ => random.Next(8)).ToArray();
                sequences.Add(prompt.Concat(fixedTargets ?? prompt.Reverse()).ToArray());
                prompts.Add(length);
            }

            yield return new CopilotTrainingBatch(sequences, prompts);
        }
    }

    internal static FakePilot NewPilot(int seed) => new(Vocab, PilotWidth, layers: 2, maxSequenceLength: MaxLength, seed: (ulong)seed);

    internal static CopilotDecoder NewCopilot(int seed) => CopilotDecoder.Create(
        new CopilotOptions { VocabSize = Vocab, PilotWidth = PilotWidth, Width = 16, Layers = 2, Heads = 2 }, seed);

    [Fact]
    public void Mistake_log_holds_onehot_minus_softmax_of_the_pre_update_pilot()
    {
        using var pilot = NewPilot(1);
        using var copilot = NewCopilot(2);
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot, new CopilotTrainerOptions { MistakeLogCapacity = 100 });
        trainer.Train(Batches(3).Take(2));
        var batch = Batches(4).First();

        // Reference from the Pilot before the step, on the host in double precision.
        var expected = new List<(double[,] Mistakes, float[] E, float[] H)>();
        using (no_grad())
        {
            for (int b = 0; b < batch.Count; b++)
            {
                var sequence = batch.Sequence(b).ToArray();
                using var output = pilot.Forward(tensor(sequence.Select(x => (long)x).ToArray(), new long[] { 1, sequence.Length }));
                int m = batch.PromptLength(b), n = batch.TargetLength(b);
                var logits = output.Logits.data<float>().ToArray();
                var mistakes = new double[n, Vocab];
                for (int i = 0; i < n; i++)
                {
                    var row = logits.AsSpan((m + i - 1) * Vocab, Vocab).ToArray();
                    double max = row.Max(), sum = row.Sum(z => Math.Exp(z - max));
                    for (int v = 0; v < Vocab; v++)
                    {
                        mistakes[i, v] = (v == sequence[m + i] ? 1 : 0) - (Math.Exp(row[v] - max) / sum);
                    }
                }

                int s = m + n - 1;
                var e = output.Embeddings.data<float>().ToArray().Take(s * PilotWidth).ToArray();
                var h0 = output.LayerStates[0].data<float>().ToArray();
                var h1 = output.LayerStates[1].data<float>().ToArray();
                var h = Enumerable.Range(0, s * PilotWidth).Select(k => (h0[k] + h1[k]) / 2).ToArray();
                expected.Add((mistakes, e, h));
            }
        }

        trainer.Step(batch);
        var recorded = trainer.MistakeLog!.Entries.TakeLast(batch.Count).ToArray();
        trainer.MistakeLog.Count.Should().Be(3 * batch.Count);
        for (int b = 0; b < batch.Count; b++)
        {
            recorded[b].PromptLength.Should().Be(batch.PromptLength(b));
            recorded[b].TargetLength.Should().Be(batch.TargetLength(b));
            recorded[b].TargetMask.all().item<bool>().Should().BeTrue();
            var actual = recorded[b].Mistakes.data<float>().ToArray();
            for (int k = 0; k < actual.Length; k++)
            {
                actual[k].Should().BeApproximately((float)expected[b].Mistakes[k / Vocab, k % Vocab], 1e-6f);
            }

            recorded[b].InputRepresentation.data<float>().ToArray().Should().Equal(expected[b].E);
            var pooled = recorded[b].HiddenStates.data<float>().ToArray();
            pooled.Zip(expected[b].H).Should().OnlyContain(p => Math.Abs(p.First - p.Second) <= 1e-6f);
        }
    }

    [Fact]
    public void Copilot_training_loss_decreases_on_a_tiny_task()
    {
        using var pilot = NewPilot(5);
        using var copilot = NewCopilot(6);

        // A nearly frozen Pilot keeps the mistake distribution stationary, so a falling loss is the Copilot learning;
        // fixed targets make the mistakes predictable from the memory within a few dozen steps.
        var options = new CopilotTrainerOptions { PilotLearningRate = 1e-7, CopilotLearningRate = 3e-3, MistakeLogCapacity = 32, Seed = 1 };
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot, options);
        var reports = new List<CopilotTrainingProgress>();
        trainer.Train(Batches(7, fixedTargets: new[] { 8, 9, 8 }).Take(40), new SynchronousProgress(reports.Add));
        reports.Should().HaveCount(40);
        reports.Select(r => r.Step).Should().Equal(Enumerable.Range(1, 40));
        reports.Should().OnlyContain(r => double.IsFinite(r.PilotLoss) && double.IsFinite(r.CopilotLoss) && r.TokensPerSecond > 0);
        double first = reports.Take(5).Average(r => r.CopilotLoss);
        double last = reports.TakeLast(5).Average(r => r.CopilotLoss);
        last.Should().BeLessThan(0.5 * first, $"first {first}, last {last}");
    }

    [Fact]
    public void Pilot_weights_are_bit_identical_with_and_without_a_copilot()
    {
        using var withPilot = NewPilot(8);
        using var withoutPilot = NewPilot(8);
        using var initial = NewPilot(8);
        using var copilot = CopilotDecoder.Create(
            new CopilotOptions { VocabSize = Vocab, PilotWidth = PilotWidth, Width = 16, Layers = 2, Heads = 2, Dropout = 0.2 }, 9);
        var options = new CopilotTrainerOptions { PilotLearningRate = 1e-2, CopilotBatchSize = 3 };
        using (var joint = new CopilotJointTrainer<FakePilot>(withPilot, copilot, options))
        {
            joint.Train(Batches(10).Take(6)).CopilotLoss.Should().BeGreaterThan(0);
        }

        using (var alone = new CopilotJointTrainer<FakePilot>(withoutPilot, null, options))
        {
            var last = alone.Train(Batches(10).Take(6));
            double.IsNaN(last.CopilotLoss).Should().BeTrue();
            alone.MistakeLog.Should().BeNull();
        }

        withPilot.parameters().Zip(withoutPilot.parameters()).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0));
        withPilot.parameters().Zip(initial.parameters()).Should().Contain(p => !p.First.allclose(p.Second, 0, 0), "the Pilot did train");
    }

    [Fact]
    public void Training_is_cancellable_between_steps()
    {
        using var pilot = NewPilot(11);
        using var copilot = NewCopilot(12);
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot);
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Step == 2)
            {
                cancellation.Cancel();
            }
        });
        FluentActions.Invoking(() => trainer.Train(Batches(13).Take(10), progress, cancellation.Token)).Should().Throw<OperationCanceledException>();
        trainer.Steps.Should().Be(2);
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_outputs()
    {
        string directory = Path.Combine(Path.GetTempPath(), "copilot-checkpoint-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var pilot = NewPilot(14);
            using var copilot = NewCopilot(15);
            using (var trainer = new CopilotJointTrainer<FakePilot>(pilot, copilot))
            {
                trainer.Train(Batches(16).Take(3));
                trainer.SaveCheckpoint(directory);
            }

            using var otherPilot = NewPilot(17);
            using var otherCopilot = NewCopilot(18);
            using var restored = new CopilotJointTrainer<FakePilot>(otherPilot, otherCopilot);
            restored.LoadCheckpoint(directory);

            using var tokens = tensor(new long[] { 1, 2, 3, 3, 2, 1 }, new long[] { 1, 6 });
            using (no_grad())
            {
                using var a = pilot.Forward(tokens);
                using var b = otherPilot.Forward(tokens);
                a.Logits.allclose(b.Logits, 0, 0).Should().BeTrue();
                using var l = rand(1, 3, Vocab);
                using var memory = randn(1, 10, PilotWidth);
                using var mask = CopilotDecoder.MemoryMask(new[] { 3 }, new[] { 3 }, 3, 5);
                copilot.eval();
                otherCopilot.eval();
                using var fa = copilot.TeacherForced(l, memory, mask);
                using var fb = otherCopilot.TeacherForced(l, memory, mask);
                fa.allclose(fb, 0, 0).Should().BeTrue();
            }

            FluentActions.Invoking(() => restored.LoadCheckpoint(Path.Combine(directory, "missing"))).Should().Throw<FileNotFoundException>();
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void Arguments_are_validated()
    {
        using var pilot = NewPilot(19);
        using var wrong = CopilotDecoder.Create(new CopilotOptions { VocabSize = Vocab + 1, PilotWidth = PilotWidth, Width = 4, Layers = 2, Heads = 1 });
        FluentActions.Invoking(() => new CopilotJointTrainer<FakePilot>(pilot, wrong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("copilot");
        FluentActions.Invoking(() => new CopilotTrainerOptions { PilotLearningRate = 0 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("PilotLearningRate");
        FluentActions.Invoking(() => new CopilotTrainerOptions { CopilotLearningRate = double.NaN }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("CopilotLearningRate");
        FluentActions.Invoking(() => new CopilotTrainerOptions { MistakeLogCapacity = 0 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MistakeLogCapacity");
        FluentActions.Invoking(() => new CopilotTrainerOptions { CopilotBatchSize = 0 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("CopilotBatchSize");
        FluentActions.Invoking(() => new CopilotTrainerOptions { MistakeLogStorageType = ScalarType.Int32 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("MistakeLogStorageType");
        FluentActions.Invoking(() => new CopilotTrainerOptions { LossReduction = (CopilotLossReduction)5 }).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("LossReduction");
        FluentActions.Invoking(() => new CopilotTrainingBatch(new[] { new[] { 1, 2 } }, new[] { 2 })).Should().Throw<ArgumentException>().Which.Message.Should().Contain("row 0");
        using var trainer = new CopilotJointTrainer<FakePilot>(pilot, null);
        FluentActions.Invoking(() => trainer.Step(new CopilotTrainingBatch(new[] { new[] { 1, Vocab } }, new[] { 1 }))).Should().Throw<ArgumentException>();
    }

    /// <summary>Reports on the calling thread (System.Progress posts asynchronously).</summary>
    internal sealed class SynchronousProgress : IProgress<CopilotTrainingProgress>
    {
        private readonly Action<CopilotTrainingProgress> _report;

        public SynchronousProgress(Action<CopilotTrainingProgress> report) => _report = report;

        public void Report(CopilotTrainingProgress value) => _report(value);
    }
}

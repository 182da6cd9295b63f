using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Optimization;
using Logits.TorchSharp.Rectification;
using static TorchSharp.torch;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>A fine-tuning run's outcome.</summary>
/// <param name="Seconds">Wall time of the training loop.</param>
/// <param name="CopilotLosses">The Copilot loss at every step (empty without a Copilot).</param>
/// <param name="MistakeLogCount">Sequences in the Mistake Log at the end (0 without a Copilot).</param>
/// <param name="MistakeLogBytes">Estimated bytes of the Mistake Log at the end.</param>
/// <param name="LogSkill">The trained Copilot's skill <c>1 − Σ‖f^C − ℓ‖² / Σ‖ℓ‖²</c> on a sample of the Mistake Log itself
/// (the mistakes it was trained on, made by the Pilot during fine-tuning); NaN without a Copilot.</param>
public sealed record FinetuneResult(double Seconds, IReadOnlyList<double> CopilotLosses, int MistakeLogCount, long MistakeLogBytes, double LogSkill);

/// <summary>Pre-training and fine-tuning, every run through the library's <see cref="CopilotJointTrainer{TPilot}"/>.</summary>
public static class Training
{
    /// <summary>Pre-trains a Pilot on the source task (addition) with warm-up + cosine, or loads it from the cache.</summary>
    /// <param name="data">The data.</param>
    /// <param name="config">The settings.</param>
    /// <param name="options">The Pilot's shape.</param>
    /// <param name="seed">Seeds the weights and the data order.</param>
    /// <param name="cacheDirectory">Where pre-trained Pilots are kept (<see langword="null"/>: no cache).</param>
    /// <param name="log">Progress output.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>The pre-trained Pilot and whether it came from the cache.</returns>
    public static (DecoderTransformer Pilot, bool Cached) Pretrain(TransferData data, ExperimentConfig config, DecoderTransformerOptions options, ulong seed, string? cacheDirectory, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var pilot = DecoderTransformer.Create(options, seed);
        string? path = cacheDirectory is null
            ? null
            : Path.Combine(cacheDirectory, FormattableString.Invariant($"pilot-w{options.Width}-h{options.Heads}-l{options.Layers}-b{config.BatchSize}-s{config.PretrainSteps}-lr{config.PretrainLearningRate:G4}-seed{seed}.bin"));
        if (path is not null && File.Exists(path))
        {
            ModuleCheckpoint.Load(pilot, path);
            return (pilot, true);
        }

        manual_seed(unchecked((long)seed));
        var trainerOptions = new CopilotTrainerOptions
        {
            PilotLearningRate = config.PretrainLearningRate,
            PilotSchedule = new WarmupCosineSchedule(Math.Max(1, config.PretrainSteps / 20), config.PretrainSteps, 0.1),
            WeightDecay = config.WeightDecay,
        };
        var random = new Random(unchecked((int)seed * 7919));
        var clock = Stopwatch.StartNew();
        using (var trainer = new CopilotJointTrainer<DecoderTransformer>(pilot, null, trainerOptions))
        {
            double smoothed = double.NaN;
            trainer.Train(
                Batches(() => data.SampleSource(random), config.BatchSize, config.PretrainSteps),
                new SynchronousProgress(p =>
                {
                    smoothed = double.IsNaN(smoothed) ? p.PilotLoss : (0.95 * smoothed) + (0.05 * p.PilotLoss);
                    if (p.Step % Math.Max(1, config.PretrainSteps / 3) == 0)
                    {
                        log.WriteLine($"      pre-training (width {options.Width}) step {p.Step,5}/{config.PretrainSteps}: loss {smoothed:F4} (smoothed), {clock.Elapsed.TotalSeconds:F1} s");
                    }
                }),
                cancellationToken);
        }

        if (path is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            ModuleCheckpoint.Save(pilot, path);
        }

        return (pilot, false);
    }

    /// <summary>Fine-tunes <paramref name="pilot"/> in place on the target task (subtraction), alone or with a Copilot.</summary>
    /// <param name="data">The data.</param>
    /// <param name="config">The settings.</param>
    /// <param name="pilot">The pre-trained Pilot (a copy per arm).</param>
    /// <param name="copilot">The Copilot, or <see langword="null"/>.</param>
    /// <param name="steps">The number of steps (the schedule spans them).</param>
    /// <param name="seed">Seeds the data order and the Mistake Log's sampling (the same batches for every arm of a seed).</param>
    /// <param name="log">Progress output.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>Time, Copilot losses and the Mistake Log's final size.</returns>
    public static FinetuneResult Finetune(TransferData data, ExperimentConfig config, DecoderTransformer pilot, CopilotDecoder? copilot, int steps, ulong seed, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(pilot);
        ArgumentNullException.ThrowIfNull(log);
        manual_seed(unchecked((long)seed + 1));
        int warmup = Math.Max(1, steps / 10);
        var options = new CopilotTrainerOptions
        {
            PilotLearningRate = config.FinetuneLearningRate,
            CopilotLearningRate = config.CopilotLearningRate,
            PilotSchedule = new WarmupCosineSchedule(warmup, steps),
            CopilotSchedule = new WarmupCosineSchedule(warmup, steps),
            WeightDecay = config.WeightDecay,
            CopilotBatchSize = config.CopilotBatchSize,
            Seed = unchecked((int)seed),
        };
        var random = new Random(unchecked((int)seed * 104729));
        var losses = new List<double>(copilot is null ? 0 : steps);
        CopilotTrainingProgress last = default;
        var clock = Stopwatch.StartNew();
        using (var trainer = new CopilotJointTrainer<DecoderTransformer>(pilot, copilot, options))
        {
            double smoothed = double.NaN, smoothedCopilot = double.NaN;
            last = trainer.Train(
                Batches(() => data.Target[random.Next(data.Target.Count)], config.BatchSize, steps),
                new SynchronousProgress(p =>
                {
                    smoothed = double.IsNaN(smoothed) ? p.PilotLoss : (0.9 * smoothed) + (0.1 * p.PilotLoss);
                    if (copilot is not null)
                    {
                        losses.Add(p.CopilotLoss);
                        smoothedCopilot = double.IsNaN(smoothedCopilot) ? p.CopilotLoss : (0.9 * smoothedCopilot) + (0.1 * p.CopilotLoss);
                    }

                    if (p.Step % Math.Max(1, steps / 2) == 0)
                    {
                        string copilotText = copilot is null ? string.Empty : $", Copilot loss {smoothedCopilot:F4}, Mistake Log {p.MistakeLogCount} sequences ({p.MistakeLogBytes / 1e6:F1} MB)";
                        log.WriteLine($"      fine-tuning step {p.Step,4}/{steps}: Pilot loss {smoothed:F4}{copilotText}, {clock.Elapsed.TotalSeconds:F1} s");
                    }
                }),
                cancellationToken);
            double seconds = clock.Elapsed.TotalSeconds;
            double logSkill = copilot is null ? double.NaN : SkillOnLog(copilot, trainer.MistakeLog!);
            return new FinetuneResult(seconds, losses, last.MistakeLogCount, last.MistakeLogBytes, logSkill);
        }
    }

    /// <summary>The Copilot's teacher-forced skill on up to 4,096 sequences drawn from the Mistake Log (after training,
    /// so the draw changes nothing that was trained).</summary>
    private static double SkillOnLog(CopilotDecoder copilot, MistakeLog log)
    {
        bool training = copilot.training;
        copilot.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var batch = log.Sample(Math.Min(4096, log.Count));
            var prediction = copilot.TeacherForced(batch);
            var weight = batch.TargetMask.unsqueeze(-1).to_type(ScalarType.Float32);

            // Products, not square(): no Scalar reaches a native call.
            var difference = prediction - batch.Mistakes;
            double error = (difference * difference * weight).sum().item<float>();
            double baseline = (batch.Mistakes * batch.Mistakes * weight).sum().item<float>();
            return 1 - (error / baseline);
        }
        finally
        {
            copilot.train(training);
        }
    }

    /// <summary>A new Pilot with a copy of <paramref name="pilot"/>'s weights.</summary>
    /// <param name="pilot">The source.</param>
    /// <returns>The copy (the caller disposes it).</returns>
    public static DecoderTransformer Copy(DecoderTransformer pilot)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        var copy = DecoderTransformer.Create(pilot.Options, 0);
        using var noGrad = no_grad();
        foreach (var (target, source) in copy.parameters().Zip(pilot.parameters()))
        {
            target.copy_(source);
        }

        return copy;
    }

    /// <summary>Whether two Pilots have bit-identical weights.</summary>
    /// <param name="a">One Pilot.</param>
    /// <param name="b">The other.</param>
    /// <returns><see langword="true"/> when every parameter is equal element for element.</returns>
    public static bool SameWeights(DecoderTransformer a, DecoderTransformer b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var scope = NewDisposeScope();
        var left = a.parameters().ToArray();
        var right = b.parameters().ToArray();
        return left.Length == right.Length && left.Zip(right).All(pair => pair.First.shape.SequenceEqual(pair.Second.shape) && pair.First.eq(pair.Second).all().item<bool>());
    }

    private static IEnumerable<CopilotTrainingBatch> Batches(Func<ArithmeticProblem> next, int batchSize, int steps)
    {
        var sequences = new int[batchSize][];
        var promptLengths = new int[batchSize];
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < batchSize; i++)
            {
                var problem = next();
                sequences[i] = CharTokenizer.Encode(problem.Text);
                promptLengths[i] = problem.Prompt.Length;
            }

            yield return new CopilotTrainingBatch(sequences, promptLengths);
        }
    }

    /// <summary>A synchronous <see cref="IProgress{T}"/> (the BCL's <c>Progress</c> posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<CopilotTrainingProgress> action) : IProgress<CopilotTrainingProgress>
    {
        public void Report(CopilotTrainingProgress value) => action(value);
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Logits.TorchSharp.Models;
using static TorchSharp.torch;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>One Pilot run: its seed, size, timings and accuracies.</summary>
/// <param name="Seed">The training seed.</param>
/// <param name="ParameterCount">The Pilot's trainable scalars.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="FinalLoss">The last training loss (answer tokens, nats).</param>
/// <param name="TrainAccuracy">Exact-match accuracy on training problems.</param>
/// <param name="Test">Exact-match result on the held-out problems.</param>
/// <param name="EvaluationSeconds">Wall time of the held-out evaluation.</param>
public sealed record PilotRunReport(ulong Seed, long ParameterCount, double TrainSeconds, double FinalLoss, double TrainAccuracy, EvaluationResult Test, double EvaluationSeconds);

/// <summary>The sample's entry point, callable in-process (the test suite runs it with <c>--quick</c>).</summary>
public static class ArithmeticExperiment
{
    /// <summary>Parses the arguments, trains and evaluates the Pilot for each seed, and prints a table.</summary>
    /// <param name="args"><c>--quick</c>, <c>--seed N</c> (default 1), <c>--runs K</c> (seeds N…N+K−1, default 1), and
    /// overrides for exploration: <c>--steps</c>, <c>--width</c>, <c>--layers</c>, <c>--heads</c>, <c>--batch</c>,
    /// <c>--lr</c>, <c>--digits</c>, and <c>--threads</c> (torch's intra-op threads, default 1; note that this sets a process-wide torch setting).</param>
    /// <param name="output">Where the progress and the table go.</param>
    /// <param name="cancellationToken">Stops between training steps.</param>
    /// <returns>One report per seed.</returns>
    /// <exception cref="ArgumentException">An unknown argument.</exception>
    public static IReadOnlyList<PilotRunReport> Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var config = PilotConfig.Default;
        bool quick = args.Contains("--quick");
        if (quick)
        {
            config = PilotConfig.Quick;
        }

        ulong seed = 1;
        int runs = 1;
        int threads = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"'{args[i]}' needs a value.", nameof(args));
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick": break;
                case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--runs": runs = NextInt(); break;
                case "--steps": config = config with { Steps = NextInt() }; break;
                case "--width": config = config with { Width = NextInt() }; break;
                case "--layers": config = config with { Layers = NextInt() }; break;
                case "--heads": config = config with { Heads = NextInt() }; break;
                case "--batch": config = config with { BatchSize = NextInt() }; break;
                case "--digits": config = config with { Digits = NextInt() }; break;
                case "--threads": threads = NextInt(); break;
                case "--lr": config = config with { LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.", nameof(args));
            }
        }

        // One intra-op thread: the model is so small that torch's per-op work split costs more than it gains, and on a
        // shared 2-core machine two spinning threads per op were 8x slower (200 steps: 33.2 s with 2 threads, 4.1 s with 1,
        // load average about 10). The results do not depend on the thread count (same losses and accuracies measured).
        set_num_threads(threads);
        var dataset = new ArithmeticDataset(config.Digits, testSize: config.TestSize);
        output.WriteLine($"CopilotArithmetic{(quick ? " (quick)" : string.Empty)}: {config.Digits}-digit + and −, split by operand pair ({dataset.TestFraction:P0} of pairs held out, split seed {dataset.SplitSeed}), {dataset.Test.Count} test problems.");
        output.WriteLine($"Pilot: width {config.Width}, {config.Heads} heads, {config.Layers} layers; {config.Steps} AdamW steps of {config.BatchSize}, peak lr {config.LearningRate:G3}; {Environment.ProcessorCount} cores, {get_num_threads()} torch threads.");
        var reports = new List<PilotRunReport>();
        for (int run = 0; run < runs; run++)
        {
            ulong runSeed = seed + (ulong)run;
            output.WriteLine($"  seed {runSeed}: training the Pilot");
            var (model, finalLoss, elapsed) = PilotTraining.Train(dataset, config, runSeed, output, cancellationToken);
            using (model)
            {
                var lm = new TransformerLanguageModel(model);
                var clock = Stopwatch.StartNew();
                var test = Evaluation.ExactMatch(lm, dataset.Test, dataset.MaxAnswerTokens);
                double evaluationSeconds = clock.Elapsed.TotalSeconds;
                var trainRandom = new Random(unchecked((int)runSeed + 1_000_003));
                var trainProblems = Enumerable.Range(0, config.TrainEvalSize).Select(_ => dataset.SampleTraining(trainRandom)).ToList();
                var train = Evaluation.ExactMatch(lm, trainProblems, dataset.MaxAnswerTokens);
                var report = new PilotRunReport(runSeed, model.ParameterCount, elapsed.TotalSeconds, finalLoss, train.Accuracy, test, evaluationSeconds);
                reports.Add(report);
                output.WriteLine($"  seed {runSeed}: test exact match {test.Accuracy:P1} ({test.Correct}/{test.Total}), train {train.Accuracy:P1}; wrong: {string.Join("; ", test.Examples.Take(3))}");
            }
        }

        output.WriteLine();
        output.WriteLine("| seed | parameters | train s | final loss | train acc | test acc | eval s |");
        output.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in reports)
        {
            output.WriteLine($"| {r.Seed} | {r.ParameterCount:N0} | {r.TrainSeconds:F1} | {r.FinalLoss:F4} | {r.TrainAccuracy:P1} | {r.Test.Accuracy:P1} | {r.EvaluationSeconds:F1} |");
        }

        if (reports.Count > 1)
        {
            double mean = reports.Average(r => r.Test.Accuracy);
            double sd = Math.Sqrt(reports.Sum(r => Math.Pow(r.Test.Accuracy - mean, 2)) / (reports.Count - 1));
            output.WriteLine($"Test exact match over {reports.Count} seeds: {mean:P1} ± {sd:P1} (sample sd).");
        }

        return reports;
    }
}

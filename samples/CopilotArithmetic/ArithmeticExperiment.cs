using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using Logits.Pipelines;
using Logits.Processing.Rectification;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Rectification;
using static TorchSharp.torch;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>One row of the result table: a model evaluated on the held-out test problems for every seed.</summary>
/// <param name="Name">The row label.</param>
/// <param name="Parameters">Trainable scalars (Pilot plus Copilot for the fused row).</param>
/// <param name="Accuracies">Test exact-match accuracy per seed.</param>
/// <param name="Outcomes">Per seed, per test problem, whether the answer was right.</param>
/// <param name="FinetuneSeconds">Fine-tuning wall time per seed.</param>
/// <param name="FinetuneSteps">Fine-tuning steps (fixed).</param>
public sealed record ResultRow(string Name, long Parameters, IReadOnlyList<double> Accuracies, IReadOnlyList<bool[]> Outcomes, IReadOnlyList<double> FinetuneSeconds, int FinetuneSteps)
{
    /// <summary>The mean test accuracy over seeds.</summary>
    public double Mean => Accuracies.Average();

    /// <summary>The sample standard deviation over seeds (NaN for one seed).</summary>
    public double StandardDeviation => StandardDeviationOf(Accuracies);

    /// <summary>The sample standard deviation of a list (NaN for fewer than two values).</summary>
    /// <param name="values">The values.</param>
    /// <returns>The standard deviation.</returns>
    public static double StandardDeviationOf(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2)
        {
            return double.NaN;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(a => (a - mean) * (a - mean)) / (values.Count - 1));
    }
}

/// <summary>The per-seed comparison of Pilot + Copilot against the fine-tuned Pilot alone, on the same test problems.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="Difference">Accuracy of Pilot + Copilot minus the Pilot's (a fraction).</param>
/// <param name="OnlyCopilot">Problems only Pilot + Copilot answers right (McNemar's b).</param>
/// <param name="OnlyPilot">Problems only the Pilot answers right (c).</param>
/// <param name="McNemarP">The exact two-sided McNemar p-value.</param>
public sealed record PairedResult(ulong Seed, double Difference, int OnlyCopilot, int OnlyPilot, double McNemarP);

/// <summary>Everything the experiment measured.</summary>
/// <param name="Seeds">The seeds.</param>
/// <param name="Rows">Table rows: Pilot, Pilot + Copilot, parameter-matched Pilot, compute-matched Pilot.</param>
/// <param name="Paired">Per seed, Pilot + Copilot against the Pilot.</param>
/// <param name="PooledMcNemarP">McNemar over every seed's discordant problems pooled.</param>
/// <param name="ChosenLambdas">Per seed, the λ chosen on validation.</param>
/// <param name="PilotIdentical">Per seed, whether the joint run's Pilot equals the Pilot-alone run's, bit for bit.</param>
/// <param name="LambdaZeroEqualsPilot">Per seed, whether fused generation with λ = 0 answers every test problem as the Pilot.</param>
/// <param name="LibraryAgrees">Per seed, whether the library's one-at-a-time generation (<c>TokenGenerator</c>) gives the
/// batched evaluation's outcomes on the checked problems, for the Pilot and for Pilot + Copilot.</param>
/// <param name="CopilotSkill">Per seed, the Copilot's skill on fine-tuning and validation problems.</param>
/// <param name="CopilotLosses">Per seed, the Copilot loss at every fine-tuning step.</param>
/// <param name="TrainingOverhead">Per seed, joint fine-tuning time / Pilot-alone fine-tuning time − 1 (same step count).</param>
/// <param name="InferenceOverhead">Per seed, library fused generation time / Pilot generation time − 1 (same problems).</param>
/// <param name="PlotPath">The accuracy plot.</param>
public sealed record ExperimentReport(
    IReadOnlyList<ulong> Seeds,
    IReadOnlyList<ResultRow> Rows,
    IReadOnlyList<PairedResult> Paired,
    double PooledMcNemarP,
    IReadOnlyList<double> ChosenLambdas,
    IReadOnlyList<bool> PilotIdentical,
    IReadOnlyList<bool> LambdaZeroEqualsPilot,
    IReadOnlyList<bool> LibraryAgrees,
    IReadOnlyList<(double Training, double Validation)> CopilotSkill,
    IReadOnlyList<IReadOnlyList<double>> CopilotLosses,
    IReadOnlyList<double> TrainingOverhead,
    IReadOnlyList<double> InferenceOverhead,
    string PlotPath);

/// <summary>
/// Transformer Copilot in the paper's setting: pre-train a Pilot on a source task, fine-tune it on a target task while a
/// Copilot learns from the fine-tuning Mistake Log, and compare fused generation with the fine-tuned Pilot alone and with
/// parameter- and compute-matched Pilots on the same held-out problems, per seed.
/// </summary>
public static class ArithmeticExperiment
{
    /// <summary>The command line, printed by <c>--help</c> and after a wrong argument.</summary>
    public const string Usage = """
        Usage: dotnet run -c Release --project samples/CopilotArithmetic [-- options]

          --quick                 tiny models and few steps (under a minute); checks the mechanics, not the result
          --seeds K               number of seeds (default 5, quick 1); --seed N is the first (default 1)
          --threads N             torch intra-op threads (default 1: one per process on a 2-core machine)
          --pretrain-steps N      pre-training steps on addition (default 1500)
          --finetune-steps N      fine-tuning steps on subtraction (default 400)
          --compute-extra-steps N extra fine-tuning steps of the compute-matched Pilot
                                  (default: finetune steps x Copilot/Pilot parameters, rounded)
          --lr X --finetune-lr X --copilot-lr X
                                  peak learning rates (pre-training, Pilot fine-tuning, Copilot)
          --width N --layers N --copilot-layers N
                                  Pilot width and depth, Copilot depth (the Copilot has the Pilot's width)
          --copilot-batch N       sequences per Copilot step drawn from the Mistake Log (default 64)
          --lambdas 0.25,0.5,1,2  Probability-mode λ candidates (λ = 0, the Pilot, is always a candidate)
          --out DIR               output folder (default samples-output/copilot-arithmetic, ignored by git)
          --no-cache              pre-train even when a cached pre-trained Pilot exists
          --pretrain-seed N       pre-train every seed's Pilots from seed N (one pre-training per width, shared
                                  by the seeds; default: each seed pre-trains its own)
          --help, -h              this text

        Exit code: 0 after the table, 2 for a wrong command line.
        """;

    /// <summary>The program: <c>--help</c> prints <see cref="Usage"/>; a wrong command line prints the error and the usage to
    /// <paramref name="error"/> and returns 2; otherwise runs the experiment and returns 0.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Progress and table.</param>
    /// <param name="error">Errors.</param>
    /// <param name="cancellationToken">Stops between training steps.</param>
    /// <returns>The exit code.</returns>
    public static int Execute(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Contains("--help") || args.Contains("-h"))
        {
            output.WriteLine(Usage);
            return 0;
        }

        try
        {
            Run(args, output, cancellationToken);
            return 0;
        }
        catch (UsageException wrong)
        {
            error.WriteLine(wrong.Message);
            error.WriteLine(Usage);
            return 2;
        }
    }

    /// <summary>Parses the arguments (see <see cref="Usage"/>), runs every seed and prints the table and the paired analysis.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Progress and table.</param>
    /// <param name="cancellationToken">Stops between training steps.</param>
    /// <returns>The measurements.</returns>
    /// <exception cref="UsageException">A wrong command line.</exception>
    public static ExperimentReport Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool quick = args.Contains("--quick");
        var config = quick ? ExperimentConfig.Quick : ExperimentConfig.Default;
        ulong firstSeed = 1;
        int seedCount = quick ? 1 : 5, threads = 1;
        int? extraSteps = null;
        double[] lambdas = { 0.25, 0.5, 1, 2 };
        string outDirectory = Path.Combine("samples-output", "copilot-arithmetic");
        bool cache = true;
        ulong? pretrainSeed = null;
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"'{option}' needs a value.");
            int NextInt(int minimum)
            {
                string text = Next();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum
                    ? value
                    : throw new UsageException($"'{option}' needs an integer of at least {minimum}; got '{text}'.");
            }

            double ParsePositive(string text) =>
                double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value > 0
                    ? value
                    : throw new UsageException($"'{option}' needs positive numbers; got '{text}'.");
            switch (option)
            {
                case "--quick": break;
                case "--no-cache": cache = false; break;
                case "--seeds": seedCount = NextInt(1); break;
                case "--seed":
                    string seedText = Next();
                    firstSeed = ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed)
                        ? parsed
                        : throw new UsageException($"'--seed' needs an unsigned integer; got '{seedText}'.");
                    break;
                case "--threads": threads = NextInt(1); break;
                case "--pretrain-seed":
                    string pretrainText = Next();
                    pretrainSeed = ulong.TryParse(pretrainText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsedPretrain)
                        ? parsedPretrain
                        : throw new UsageException($"'--pretrain-seed' needs an unsigned integer; got '{pretrainText}'.");
                    break;
                case "--pretrain-steps": config = config with { PretrainSteps = NextInt(2) }; break;
                case "--finetune-steps": config = config with { FinetuneSteps = NextInt(2) }; break;
                case "--compute-extra-steps": extraSteps = NextInt(0); break;
                case "--lr": config = config with { PretrainLearningRate = ParsePositive(Next()) }; break;
                case "--finetune-lr": config = config with { FinetuneLearningRate = ParsePositive(Next()) }; break;
                case "--copilot-lr": config = config with { CopilotLearningRate = ParsePositive(Next()) }; break;
                case "--width": int width = NextInt(1); config = config with { Width = width, CopilotWidth = width }; break;
                case "--layers": config = config with { Layers = NextInt(1) }; break;
                case "--copilot-layers": config = config with { CopilotLayers = NextInt(1) }; break;
                case "--copilot-batch": config = config with { CopilotBatchSize = NextInt(1) }; break;
                case "--lambdas": lambdas = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParsePositive).ToArray(); break;
                case "--out": outDirectory = Next(); break;
                default: throw new UsageException($"Unknown argument '{option}'.");
            }
        }

        if (config.Width % config.Heads != 0)
        {
            throw new UsageException($"'--width' must be a multiple of the {config.Heads} heads; got {config.Width}.");
        }

        // One intra-op thread per process: fast and repeatable on a 2-core machine shared with other work.
        set_num_threads(threads);
        var total = Stopwatch.StartNew();
        var data = new TransferData(config.TargetSize, config.ValidationSize, config.TestSize);
        var seeds = Enumerable.Range(0, seedCount).Select(k => firstSeed + (ulong)k).ToList();
        long pilotParameters = CountPilot(config.PilotOptions(data));
        long copilotParameters;
        using (var probe = CopilotDecoder.Create(config.CopilotOptions()))
        {
            copilotParameters = probe.ParameterCount;
        }

        int matchedWidth = MatchWidth(config, data, pilotParameters + copilotParameters);
        long matchedParameters = CountPilot(config.PilotOptions(data, matchedWidth));
        int computeExtra = extraSteps ?? (int)Math.Round(config.FinetuneSteps * (double)copilotParameters / pilotParameters);
        string? cacheDirectory = cache ? Path.Combine(outDirectory, "pretrained") : null;
        lambdas = lambdas.Distinct().OrderBy(l => l).ToArray();

        output.WriteLine("Transformer Copilot, pre-train → fine-tune (Zou et al., arXiv 2505.16270)");
        output.WriteLine($"  source task: 2-digit addition (pre-training, {config.PretrainSteps} steps); target task: 2-digit subtraction, {data.Target.Count} fixed fine-tuning problems of {data.TrainingSideSubtractions} training-side ones ({config.FinetuneSteps} steps), {data.Validation.Count} validation and {data.Test.Count} test problems from held-out operand pairs");
        output.WriteLine($"  Pilot: width {config.Width}, {config.Layers} blocks, {config.Heads} heads ({pilotParameters:N0} parameters); Copilot: width {config.CopilotWidth}, {config.CopilotLayers} layer(s) with cross-attention in every layer, initialised from the Pilot's blocks ({copilotParameters:N0} parameters, {(double)copilotParameters / pilotParameters:P0} of the Pilot)");
        output.WriteLine($"  baselines: parameter-matched Pilot width {matchedWidth} ({matchedParameters:N0} parameters), compute-matched Pilot {config.FinetuneSteps}+{computeExtra} fine-tuning steps; torch threads {threads}; seeds {string.Join(", ", seeds)}{(pretrainSeed is { } shared ? $" (pre-training shared: seed {shared} for every seed)" : string.Empty)}");

        var pilotRow = new Row();
        var fusedRow = new Row();
        var matchedRow = new Row();
        var computeRow = new Row();
        var paired = new List<PairedResult>();
        var chosen = new List<double>();
        var identical = new List<bool>();
        var lambdaZero = new List<bool>();
        var libraryAgrees = new List<bool>();
        var skills = new List<(double, double)>();
        var copilotLosses = new List<IReadOnlyList<double>>();
        var trainingOverhead = new List<double>();
        var inferenceOverhead = new List<double>();
        foreach (ulong seed in seeds)
        {
            output.WriteLine($"  seed {seed}:");
            var (pretrained, cached) = Training.Pretrain(data, config, config.PilotOptions(data), pretrainSeed ?? seed, cacheDirectory, output, cancellationToken);
            using (pretrained)
            {
                var zeroShot = BatchedGreedy.Run(pretrained, null, 0, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct;
                output.WriteLine($"    pre-trained Pilot{(cached ? " (cached)" : string.Empty)}: subtraction test accuracy before fine-tuning {Accuracy(zeroShot):P1}");

                // Arm 1: the Pilot fine-tuned alone. Arm 2: a copy fine-tuned jointly with a Copilot on the same batches.
                using var pilot = Training.Copy(pretrained);
                var alone = Training.Finetune(data, config, pilot, null, config.FinetuneSteps, seed, output, cancellationToken);
                using var jointPilot = Training.Copy(pretrained);
                using var copilot = CopilotDecoder.Create(config.CopilotOptions(), unchecked((long)seed * 31 + 17), c => c.CopyFromPilot(jointPilot));
                var joint = Training.Finetune(data, config, jointPilot, copilot, config.FinetuneSteps, seed, output, cancellationToken);
                identical.Add(Training.SameWeights(pilot, jointPilot));
                copilotLosses.Add(joint.CopilotLosses);
                trainingOverhead.Add((joint.Seconds / alone.Seconds) - 1);
                output.WriteLine($"    fine-tuned {config.FinetuneSteps} steps: Pilot alone {alone.Seconds:F1} s, Pilot + Copilot {joint.Seconds:F1} s (Mistake Log: {joint.MistakeLogCount} sequences, {joint.MistakeLogBytes / 1e6:F1} MB); joint Pilot bit-identical to the Pilot alone: {identical[^1]}");

                var pilotTest = BatchedGreedy.Run(pilot, null, 0, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct;
                var pilotValidation = BatchedGreedy.Run(pilot, null, 0, CopilotFusionMode.Probability, data.Validation, data.MaxAnswerTokens).Correct;
                pilotRow.Add(pilotTest, alone.Seconds);

                // λ on validation: λ = 0 (the Pilot) competes, ties go to the smaller λ.
                double bestLambda = 0, bestValidation = Accuracy(pilotValidation);
                var sweep = new List<string> { $"λ=0 {bestValidation:P1}" };
                foreach (double lambda in lambdas)
                {
                    double validation = Accuracy(BatchedGreedy.Run(jointPilot, copilot, lambda, CopilotFusionMode.Probability, data.Validation, data.MaxAnswerTokens).Correct);
                    sweep.Add(FormattableString.Invariant($"λ={lambda:G3} {validation:P1}"));
                    if (validation > bestValidation)
                    {
                        bestLambda = lambda;
                        bestValidation = validation;
                    }
                }

                chosen.Add(bestLambda);
                var fusedTest = BatchedGreedy.Run(jointPilot, copilot, bestLambda, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct;
                var zeroTest = BatchedGreedy.Run(jointPilot, copilot, 0, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct;
                lambdaZero.Add(zeroTest.SequenceEqual(pilotTest));
                fusedRow.Add(fusedTest, joint.Seconds);
                var (onlyCopilot, onlyPilot) = PairedStatistics.Discordant(pilotTest, fusedTest);
                paired.Add(new PairedResult(seed, Accuracy(fusedTest) - Accuracy(pilotTest), onlyCopilot, onlyPilot, PairedStatistics.McNemarExact(onlyCopilot, onlyPilot)));
                output.WriteLine($"    validation: {string.Join(", ", sweep)} → λ = {bestLambda:G3}; test: Pilot {Accuracy(pilotTest):P1}, Pilot + Copilot {Accuracy(fusedTest):P1} (only Copilot right {onlyCopilot}, only Pilot right {onlyPilot}, McNemar p = {paired[^1].McNemarP:G3}); λ = 0 answers as the Pilot: {lambdaZero[^1]}");

                var (trainSkill, _) = CopilotDiagnostics.Skill(jointPilot, copilot, data.Target);
                var (validationSkill, _) = CopilotDiagnostics.Skill(jointPilot, copilot, data.Validation);
                skills.Add((trainSkill, validationSkill));
                output.WriteLine($"    Copilot skill 1 − Σ‖f−ℓ‖²/Σ‖ℓ‖² (teacher-forced): on the Mistake Log it learned from {joint.LogSkill:F3}; on the fine-tuned Pilot's mistakes, fine-tuning problems {trainSkill:F3}, validation problems {validationSkill:F3}");

                // The library path, one problem at a time, on a fixed subset: checks the batched evaluation and times inference.
                var (agrees, overhead) = LibraryCheck(pilot, jointPilot, copilot, bestLambda, data, config.LibraryCheckSize, pilotTest, fusedTest);
                libraryAgrees.Add(agrees);
                inferenceOverhead.Add(overhead);
                output.WriteLine($"    library generation (TokenGenerator, {config.LibraryCheckSize} test problems): same outcomes as the batched evaluation: {agrees}; fused inference time {overhead:+0.0%;-0.0%} vs the Pilot");

                // Compute-matched: the same pre-trained Pilot fine-tuned alone for a fixed number of extra steps.
                using var longer = Training.Copy(pretrained);
                var computeRun = Training.Finetune(data, config, longer, null, config.FinetuneSteps + computeExtra, seed, TextWriter.Null, cancellationToken);
                computeRow.Add(BatchedGreedy.Run(longer, null, 0, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct, computeRun.Seconds);
                output.WriteLine($"    compute-matched Pilot ({config.FinetuneSteps + computeExtra} steps): test {computeRow.Accuracy[^1]:P1}");
            }

            // Parameter-matched: a wider Pilot pre-trained and fine-tuned the same way.
            var (widePretrained, wideCached) = Training.Pretrain(data, config, config.PilotOptions(data, matchedWidth), pretrainSeed ?? seed, cacheDirectory, output, cancellationToken);
            using (widePretrained)
            {
                var wide = Training.Finetune(data, config, widePretrained, null, config.FinetuneSteps, seed, TextWriter.Null, cancellationToken);
                matchedRow.Add(BatchedGreedy.Run(widePretrained, null, 0, CopilotFusionMode.Probability, data.Test, data.MaxAnswerTokens).Correct, wide.Seconds);
                output.WriteLine($"    parameter-matched Pilot (width {matchedWidth}{(wideCached ? ", pre-training cached" : string.Empty)}): test {matchedRow.Accuracy[^1]:P1}");
            }

            output.WriteLine($"    {total.Elapsed.TotalSeconds:F0} s so far");
        }

        var rows = new List<ResultRow>
        {
            pilotRow.ToRow("Pilot (fine-tuned alone)", pilotParameters, config.FinetuneSteps),
            fusedRow.ToRow("Pilot + Copilot (λ on validation)", pilotParameters + copilotParameters, config.FinetuneSteps),
            matchedRow.ToRow($"Parameter-matched Pilot (width {matchedWidth})", matchedParameters, config.FinetuneSteps),
            computeRow.ToRow($"Compute-matched Pilot ({config.FinetuneSteps + computeExtra} steps)", pilotParameters, config.FinetuneSteps + computeExtra),
        };
        int pooledB = paired.Sum(p => p.OnlyCopilot), pooledC = paired.Sum(p => p.OnlyPilot);
        double pooledP = PairedStatistics.McNemarExact(pooledB, pooledC);
        PrintTable(output, seeds, rows);
        PrintPaired(output, paired, pooledB, pooledC, pooledP, rows);
        output.WriteLine($"λ chosen on validation per seed: {string.Join(", ", chosen.Select(l => l.ToString("G3", CultureInfo.InvariantCulture)))}. Joint Pilot bit-identical to the Pilot alone: {string.Join(", ", identical)}. λ = 0 answers as the Pilot: {string.Join(", ", lambdaZero)}. Library generation agrees with the batched evaluation: {string.Join(", ", libraryAgrees)}.");
        output.WriteLine($"Copilot skill per seed (fine-tuning / validation problems): {string.Join("; ", skills.Select(s => $"{s.Item1:F3} / {s.Item2:F3}"))}.");
        output.WriteLine($"Overheads with fixed step counts (mean over seeds): training {trainingOverhead.Average():+0.0%;-0.0%} ({config.FinetuneSteps} joint vs {config.FinetuneSteps} Pilot-only steps); inference {inferenceOverhead.Average():+0.0%;-0.0%} (library fused generation vs the Pilot, {config.LibraryCheckSize} problems).");

        Directory.CreateDirectory(outDirectory);
        string plotPath = Path.Combine(outDirectory, "copilot-arithmetic-accuracy.png");
        AccuracyPlot.Write(plotPath, seeds, rows);
        output.WriteLine($"Plot: {plotPath}. Total wall time {total.Elapsed.TotalSeconds:F0} s; load average {LoadAverage()}.");
        return new ExperimentReport(seeds, rows, paired, pooledP, chosen, identical, lambdaZero, libraryAgrees, skills, copilotLosses, trainingOverhead, inferenceOverhead, plotPath);
    }

    private static double Accuracy(bool[] outcomes) => outcomes.Length == 0 ? 0 : (double)outcomes.Count(o => o) / outcomes.Length;

    private static (bool Agrees, double Overhead) LibraryCheck(DecoderTransformer pilot, DecoderTransformer jointPilot, CopilotDecoder copilot, double lambda, TransferData data, int count, bool[] pilotBatched, bool[] fusedBatched)
    {
        var problems = data.Test.Take(count).ToList();

        // Warm-up (JIT, allocator) outside the timed calls.
        Evaluation.ExactMatch(new TransformerLanguageModel(pilot), problems.Take(5).ToList(), data.MaxAnswerTokens);
        using var fused = new CopilotLanguageModel<DecoderTransformer>(jointPilot, copilot);
        var pipeline = LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, (float)lambda, CopilotFusionMode.Probability)).Greedy();
        Evaluation.ExactMatch(fused, problems.Take(5).ToList(), data.MaxAnswerTokens, pipeline, fused.Reset);

        var clock = Stopwatch.StartNew();
        var pilotLibrary = Evaluation.ExactMatch(new TransformerLanguageModel(pilot), problems, data.MaxAnswerTokens);
        double pilotSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var fusedLibrary = Evaluation.ExactMatch(fused, problems, data.MaxAnswerTokens, pipeline, fused.Reset);
        double fusedSeconds = clock.Elapsed.TotalSeconds;
        bool agrees = pilotLibrary.Outcomes.SequenceEqual(pilotBatched.Take(count)) && fusedLibrary.Outcomes.SequenceEqual(fusedBatched.Take(count));
        return (agrees, (fusedSeconds / pilotSeconds) - 1);
    }

    private static void PrintTable(TextWriter output, IReadOnlyList<ulong> seeds, IReadOnlyList<ResultRow> rows)
    {
        output.WriteLine();
        output.WriteLine($"| model | {string.Join(" | ", seeds.Select(s => $"seed {s}"))} | mean | sd | parameters | fine-tuning steps | fine-tuning s |");
        output.WriteLine($"|---|{string.Concat(seeds.Select(_ => "---:|"))}---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            string sd = double.IsNaN(row.StandardDeviation) ? "–" : $"{100 * row.StandardDeviation:F1}";
            output.WriteLine($"| {row.Name} | {string.Join(" | ", row.Accuracies.Select(a => $"{100 * a:F1}"))} | {100 * row.Mean:F1} | {sd} | {row.Parameters:N0} | {row.FinetuneSteps} | {row.FinetuneSeconds.Average():F1} |");
        }

        output.WriteLine("Test exact match in % on the same held-out problems for every row and seed; sd over seeds; seconds are means over seeds.");
    }

    private static void PrintPaired(TextWriter output, List<PairedResult> paired, int pooledB, int pooledC, double pooledP, List<ResultRow> rows)
    {
        output.WriteLine();
        output.WriteLine("| seed | Pilot + Copilot − Pilot (points) | only Pilot + Copilot right | only Pilot right | McNemar p |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var p in paired)
        {
            output.WriteLine(FormattableString.Invariant($"| {p.Seed} | {100 * p.Difference:+0.0;-0.0;0.0} | {p.OnlyCopilot} | {p.OnlyPilot} | {p.McNemarP:G3} |"));
        }

        var differences = paired.Select(p => p.Difference).ToList();
        string sd = differences.Count < 2 ? "–" : FormattableString.Invariant($"{100 * ResultRow.StandardDeviationOf(differences):F1}");
        output.WriteLine(FormattableString.Invariant($"| pooled | {100 * differences.Average():+0.0;-0.0;0.0} (sd {sd}) | {pooledB} | {pooledC} | {pooledP:G3} |"));
        int wins = paired.Count(p => p.Difference > 0);
        output.WriteLine(FormattableString.Invariant($"Pilot + Copilot beats the Pilot on {wins} of {paired.Count} seeds; against the parameter-matched Pilot {100 * (rows[1].Mean - rows[2].Mean):+0.0;-0.0;0.0} points on the mean, against the compute-matched Pilot {100 * (rows[1].Mean - rows[3].Mean):+0.0;-0.0;0.0}."));
    }

    private static long CountPilot(DecoderTransformerOptions options)
    {
        using var model = DecoderTransformer.Create(options, 0);
        return model.ParameterCount;
    }

    /// <summary>The Pilot width (a multiple of the head count, same depth) whose parameter count is closest to <paramref name="target"/>.</summary>
    private static int MatchWidth(ExperimentConfig config, TransferData data, long target)
    {
        int best = config.Width;
        long bestGap = long.MaxValue;
        for (int width = config.Width; width <= 4 * config.Width; width += config.Heads)
        {
            long gap = Math.Abs(CountPilot(config.PilotOptions(data, width)) - target);
            if (gap < bestGap)
            {
                best = width;
                bestGap = gap;
            }
        }

        return best;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    /// <summary>Per-seed measurements of one row.</summary>
    private sealed class Row
    {
        public List<double> Accuracy { get; } = new();

        public List<bool[]> Outcomes { get; } = new();

        public List<double> Seconds { get; } = new();

        public void Add(bool[] outcomes, double seconds)
        {
            Outcomes.Add(outcomes);
            Accuracy.Add(ArithmeticExperiment.Accuracy(outcomes));
            Seconds.Add(seconds);
        }

        public ResultRow ToRow(string name, long parameters, int steps) => new(name, parameters, Accuracy, Outcomes, Seconds, steps);
    }
}

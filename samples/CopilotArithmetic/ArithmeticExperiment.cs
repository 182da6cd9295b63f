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

/// <summary>One row of the result table: a model evaluated on the test split for every seed.</summary>
/// <param name="Name">The row label.</param>
/// <param name="Parameters">Trainable scalars (Pilot plus Copilot for fused rows).</param>
/// <param name="Accuracies">Test exact-match accuracy per seed.</param>
/// <param name="TrainSeconds">Training wall time per seed.</param>
/// <param name="InferenceSeconds">Greedy generation wall time over the whole test split per seed.</param>
public sealed record ResultRow(string Name, long Parameters, IReadOnlyList<double> Accuracies, IReadOnlyList<double> TrainSeconds, IReadOnlyList<double> InferenceSeconds)
{
    /// <summary>The mean test accuracy over seeds.</summary>
    public double Mean => Accuracies.Average();

    /// <summary>The sample standard deviation of the test accuracy over seeds (NaN for one seed).</summary>
    public double StandardDeviation => Accuracies.Count < 2 ? double.NaN : Math.Sqrt(Accuracies.Sum(a => Math.Pow(a - Mean, 2)) / (Accuracies.Count - 1));
}

/// <summary>The whole experiment's outcome.</summary>
/// <param name="Seeds">The training seeds.</param>
/// <param name="Rows">The table rows, in print order.</param>
/// <param name="ChosenLambdas">Per seed, the fusion setting chosen on the validation split.</param>
/// <param name="CopilotLosses">Per seed, the Copilot's loss at every joint step.</param>
/// <param name="PilotTrajectoryIdentical">Per seed, whether the jointly trained Pilot's weights equal the Pilot-only run's, bit for bit.</param>
public sealed record ExperimentReport(IReadOnlyList<ulong> Seeds, IReadOnlyList<ResultRow> Rows, IReadOnlyList<string> ChosenLambdas, IReadOnlyList<IReadOnlyList<double>> CopilotLosses, IReadOnlyList<bool> PilotTrajectoryIdentical);

/// <summary>
/// The Transformer Copilot experiment (issue 5): per seed, a Pilot trained alone, the same Pilot trained jointly with a
/// Copilot, fused greedy generation over a λ sweep (λ chosen on the validation split), and fair baselines; one table.
/// </summary>
/// <remarks>
/// <para>Every model is trained by <see cref="CopilotJointTrainer{TPilot}"/> (Pilot-only mode for the Pilot and the
/// baselines). The Copilot's randomness never touches torch's generator, so the jointly trained Pilot is bit-identical to
/// the Pilot trained alone; the experiment checks this per seed, so the "Pilot" row is both.</para>
/// <para>Fair baselines: <b>parameter-matched</b>, a wider Pilot (same depth and steps) whose parameter count is the
/// closest to Pilot + Copilot; <b>compute-matched</b>, the same Pilot trained for more steps, as many as fit into the
/// joint run's measured wall time (Pilot-only steps × joint time / Pilot time, per seed).</para>
/// </remarks>
public static class ArithmeticExperiment
{
    /// <summary>The command line, printed by <c>--help</c> and after a wrong argument.</summary>
    public const string Usage = """
        Usage: dotnet run -c Release --project samples/CopilotArithmetic [-- options]

          --quick                     small run (about a minute)
          --seed N                    first seed (default 1); --runs K uses seeds N..N+K-1 (default 3, quick 1)
          --threads N                 torch intra-op threads (default 1)
          --steps --width --layers --heads --batch --lr --digits N
                                      Pilot settings
          --copilot-width --copilot-layers --copilot-heads --copilot-lr --log-capacity N
                                      Copilot settings; --loss rms|rss
          --lambdas 0.5,1,2           Probability-mode fusion weights; --logit-lambdas 4,16 for Logit mode
          --baselines params,compute  fair baselines to train (or none)
          --frozen-copilot-steps K    diagnostic: a Copilot trained next to a frozen copy of the trained Pilot
          --help, -h                  this text

        Exit code: 0 after the table, 2 for a wrong command line.
        """;

    /// <summary>The program: <c>--help</c> prints <see cref="Usage"/>; a wrong command line prints the error and the
    /// usage to <paramref name="error"/> and returns 2; otherwise runs the experiment and returns 0.</summary>
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

    /// <summary>Parses the arguments, runs the experiment for each seed, and prints the table.</summary>
    /// <param name="args"><c>--quick</c>, <c>--seed N</c> (default 1), <c>--runs K</c> (seeds N…N+K−1; default 3, quick 1),
    /// <c>--threads</c> (torch intra-op threads, default 1; process-wide), Pilot overrides <c>--steps --width --layers
    /// --heads --batch --lr --digits</c>, Copilot overrides <c>--copilot-width --copilot-layers --copilot-heads
    /// --copilot-lr --log-capacity --loss rms|rss</c>, the sweep <c>--lambdas 0.5,1,2,4,8</c> (Probability mode) and
    /// <c>--logit-lambdas 4,16</c> (Logit mode), and <c>--baselines params,compute</c> (or <c>none</c>), and the diagnostic
    /// <c>--frozen-copilot-steps K</c> (also train a Copilot for K steps next to a frozen copy of the trained Pilot and
    /// print its skill and sweep; not part of the table).</param>
    /// <param name="output">Where the progress and the table go.</param>
    /// <param name="cancellationToken">Stops between training steps.</param>
    /// <returns>The table and the per-seed details.</returns>
    /// <exception cref="UsageException">An unknown argument, a missing value or a value of the wrong kind.</exception>
    public static ExperimentReport Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool quick = args.Contains("--quick");
        var config = quick ? PilotConfig.Quick : PilotConfig.Default;
        var copilot = quick ? CopilotConfig.Quick : CopilotConfig.Default;
        ulong seed = 1;
        int runs = quick ? 1 : 3;
        int threads = 1;
        double[] lambdas = { 0.5, 1, 2, 4, 8 };
        double[] logitLambdas = { 4, 16 };
        string[] baselines = { "params", "compute" };
        int frozenSteps = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"'{option}' needs a value.");
            int NextInt()
            {
                string text = Next();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
                    ? value
                    : throw new UsageException($"'{option}' needs an integer; got '{text}'.");
            }

            double ParseDouble(string text) =>
                double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)
                    ? value
                    : throw new UsageException($"'{option}' needs a number; got '{text}'.");
            double NextDouble() => ParseDouble(Next());
            double[] NextList() => Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(ParseDouble).ToArray();
            switch (args[i])
            {
                case "--quick": break;
                case "--seed":
                    string seedText = Next();
                    seed = ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsedSeed)
                        ? parsedSeed
                        : throw new UsageException($"'--seed' needs an unsigned integer; got '{seedText}'.");
                    break;
                case "--runs": runs = NextInt(); break;
                case "--threads": threads = NextInt(); break;
                case "--steps": config = config with { Steps = NextInt() }; break;
                case "--width": config = config with { Width = NextInt() }; break;
                case "--layers": config = config with { Layers = NextInt() }; break;
                case "--heads": config = config with { Heads = NextInt() }; break;
                case "--batch": config = config with { BatchSize = NextInt() }; break;
                case "--digits": config = config with { Digits = NextInt() }; break;
                case "--lr": config = config with { LearningRate = NextDouble() }; break;
                case "--copilot-width": copilot = copilot with { Width = NextInt() }; break;
                case "--copilot-layers": copilot = copilot with { Layers = NextInt() }; break;
                case "--copilot-heads": copilot = copilot with { Heads = NextInt() }; break;
                case "--copilot-lr": copilot = copilot with { LearningRate = NextDouble() }; break;
                case "--log-capacity": copilot = copilot with { MistakeLogCapacity = NextInt() }; break;
                case "--loss":
                    copilot = copilot with
                    {
                        LossReduction = Next() switch
                        {
                            "rss" => CopilotLossReduction.RootSumSquare,
                            "rms" => CopilotLossReduction.RootMeanSquare,
                            var other => throw new UsageException($"'--loss' must be rms or rss; got '{other}'."),
                        },
                    };
                    break;
                case "--lambdas": lambdas = NextList(); break;
                case "--logit-lambdas": logitLambdas = NextList(); break;
                case "--frozen-copilot-steps": frozenSteps = NextInt(); break;
                case "--baselines": baselines = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Where(b => b != "none").ToArray(); break;
                default: throw new UsageException($"Unknown argument '{option}'.");
            }
        }

        foreach (string baseline in baselines)
        {
            if (baseline is not ("params" or "compute"))
            {
                throw new UsageException($"Unknown baseline '{baseline}' (params, compute).");
            }
        }

        // One intra-op thread: the models are so small that torch's per-op work split costs more than it gains, and on a
        // shared 2-core machine two spinning threads per op were 8x slower. Results do not depend on the thread count.
        set_num_threads(threads);
        bool compute = baselines.Contains("compute");
        var total = Stopwatch.StartNew();
        var dataset = new ArithmeticDataset(config.Digits, testSize: config.TestSize, validationSize: config.ValidationSize);
        var settings = lambdas.Select(l => (Mode: CopilotFusionMode.Probability, Lambda: l))
            .Concat(logitLambdas.Select(l => (Mode: CopilotFusionMode.Logit, Lambda: l)))
            .ToArray();
        long pilotParameters = CountParameters(config, dataset);
        long copilotParameters;
        using (var probe = CopilotDecoder.Create(copilot.ModelOptions(config.Width)))
        {
            copilotParameters = probe.parameters().Sum(p => p.numel());
        }

        int matchedWidth = MatchWidth(config, dataset, pilotParameters + copilotParameters);
        var matchedConfig = config with { Width = matchedWidth };
        long matchedParameters = CountParameters(matchedConfig, dataset);

        output.WriteLine($"CopilotArithmetic{(quick ? " (quick)" : string.Empty)}: {config.Digits}-digit + and −, split by operand pair ({dataset.TestFraction:P0} test, {dataset.ValidationFraction:P0} validation; split seed {dataset.SplitSeed}), {dataset.Test.Count} test and {dataset.Validation.Count} validation problems.");
        output.WriteLine($"Pilot: width {config.Width}, {config.Heads} heads, {config.Layers} blocks ({pilotParameters:N0} parameters); {config.Steps} AdamW steps of {config.BatchSize}, constant lr {config.LearningRate:G3}.");
        output.WriteLine($"Copilot: width {copilot.Width}, {copilot.Layers} layers, {copilot.Heads} heads ({copilotParameters:N0} parameters), lr {copilot.LearningRate:G3}, loss {copilot.LossReduction}, Mistake Log capacity {copilot.MistakeLogCapacity}; λ sweep {string.Join(", ", settings.Select(Label))}.");
        output.WriteLine($"Baselines: {string.Join(", ", baselines)}; parameter-matched Pilot width {matchedWidth} ({matchedParameters:N0} parameters). {Environment.ProcessorCount} cores, {get_num_threads()} torch thread(s), load average {LoadAverage()}.");

        var seeds = Enumerable.Range(0, runs).Select(r => seed + (ulong)r).ToArray();
        var pilotRow = new Measurements();
        var fusedRows = settings.Select(_ => new Measurements()).ToArray();
        var chosenRow = new Measurements();
        var paramsRow = new Measurements();
        var computeRow = new Measurements();
        var chosen = new List<string>();
        var copilotLosses = new List<IReadOnlyList<double>>();
        var identical = new List<bool>();
        var computeSteps = new List<int>();
        var skills = new List<(double Train, double Validation)>();
        foreach (ulong runSeed in seeds)
        {
            output.WriteLine($"  seed {runSeed}: Pilot + Copilot (joint)");
            var joint = PilotTraining.Train(dataset, config, copilot, config.Steps, runSeed, output, cancellationToken: cancellationToken);
            using var pilot = joint.Pilot;
            using var copilotModel = joint.Copilot!;
            copilotLosses.Add(joint.CopilotLosses);

            // The Pilot alone, by the trainer's Pilot-only mode. With the compute-matched baseline requested, the same run
            // continues (same batch stream, constant learning rate) until it has used the joint run's wall time; its
            // snapshot after config.Steps steps is the Pilot alone.
            output.WriteLine($"  seed {runSeed}: Pilot alone{(compute ? " (continued as the compute-matched baseline)" : string.Empty)}");
            int extendedSteps = config.Steps;
            var alone = PilotTraining.Train(
                dataset,
                config,
                null,
                config.Steps,
                runSeed,
                output,
                extend: seconds => extendedSteps = compute ? (int)Math.Round(config.Steps * joint.Seconds / seconds) : config.Steps,
                cancellationToken: cancellationToken);
            using (alone.Pilot)
            using (alone.Snapshot)
            {
                identical.Add(SameWeights(alone.Snapshot ?? alone.Pilot, pilot));
                WarmUp(pilot, dataset);
                var (pilotTest, pilotSeconds) = Timed(() => Evaluation.ExactMatch(new TransformerLanguageModel(pilot), dataset.Test, dataset.MaxAnswerTokens));
                pilotRow.Add(pilotTest.Accuracy, alone.SnapshotSeconds, pilotSeconds);
                var pilotValidation = Evaluation.ExactMatch(new TransformerLanguageModel(pilot), dataset.Validation, dataset.MaxAnswerTokens);
                output.WriteLine($"    Pilot alone: validation {pilotValidation.Accuracy:P1}, test {pilotTest.Accuracy:P1}, trained {alone.SnapshotSeconds:F1} s (joint {joint.Seconds:F1} s), greedy test {pilotSeconds:F2} s; jointly trained Pilot bit-identical: {identical[^1]}; wrong: {string.Join("; ", pilotTest.Examples.Take(3))}");
                if (compute)
                {
                    computeSteps.Add(extendedSteps);
                    var (test, seconds) = Timed(() => Evaluation.ExactMatch(new TransformerLanguageModel(alone.Pilot), dataset.Test, dataset.MaxAnswerTokens));
                    computeRow.Add(test.Accuracy, alone.Seconds, seconds);
                    output.WriteLine($"    compute-matched Pilot ({extendedSteps} steps): test {test.Accuracy:P1}, trained {alone.Seconds:F1} s");
                }
            }

            var trainRandom = new Random(unchecked((int)runSeed + 1_000_003));
            var trainProblems = Enumerable.Range(0, dataset.Validation.Count).Select(_ => dataset.SampleTraining(trainRandom)).ToList();
            var (trainSkill, trainRms) = CopilotDiagnostics.Skill(pilot, copilotModel, trainProblems);
            var (validationSkill, validationRms) = CopilotDiagnostics.Skill(pilot, copilotModel, dataset.Validation);
            skills.Add((trainSkill, validationSkill));
            output.WriteLine($"    Copilot skill 1 − Σ‖f−ℓ‖²/Σ‖ℓ‖² (teacher-forced): training problems {trainSkill:F3} (mistake RMS {trainRms:F4}), validation problems {validationSkill:F3} (mistake RMS {validationRms:F4})");

            using var fused = new CopilotLanguageModel<DecoderTransformer>(pilot, copilotModel);
            int best = -1;
            double bestValidation = -1;
            var testResults = new (double Accuracy, double Seconds)[settings.Length];
            for (int s = 0; s < settings.Length; s++)
            {
                var pipeline = LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, (float)settings[s].Lambda, settings[s].Mode)).Greedy();
                var validation = Evaluation.ExactMatch(fused, dataset.Validation, dataset.MaxAnswerTokens, pipeline, fused.Reset);
                var (test, seconds) = Timed(() => Evaluation.ExactMatch(fused, dataset.Test, dataset.MaxAnswerTokens, pipeline, fused.Reset));
                testResults[s] = (test.Accuracy, seconds);
                fusedRows[s].Add(test.Accuracy, joint.Seconds, seconds);
                output.WriteLine($"    {Label(settings[s])}: validation {validation.Accuracy:P1}, test {test.Accuracy:P1}, greedy test {seconds:F2} s");

                // Strictly better only: ties keep the earlier setting (the sweep lists small λ, closer to the Pilot, first).
                if (validation.Accuracy > bestValidation)
                {
                    best = s;
                    bestValidation = validation.Accuracy;
                }
            }

            if (runSeed == seeds[0])
            {
                var (pilotMs, copilotMs) = ForwardCost(pilot, copilotModel, dataset);
                output.WriteLine($"    where fused inference time goes (one row, eval, no_grad, mean of 200 calls): Pilot forward over a {dataset.MaxSequenceLength - 1}-token context {pilotMs:F3} ms, Copilot forward over 3 queries and that memory {copilotMs:F3} ms; each generated token costs one of each, plus the decoding state's per-row memory/correction copies and the host copy of f^C.");
            }

            if (frozenSteps > 0)
            {
                FrozenPilotDiagnostic(dataset, pilot, config, copilot, frozenSteps, runSeed, settings, trainProblems, output);
            }

            chosen.Add(Label(settings[best]));
            chosenRow.Add(testResults[best].Accuracy, joint.Seconds, testResults[best].Seconds);
            output.WriteLine($"    chosen on validation: {chosen[^1]} → test {testResults[best].Accuracy:P1}");

            if (baselines.Contains("params"))
            {
                output.WriteLine($"  seed {runSeed}: parameter-matched Pilot (width {matchedWidth})");
                var matched = PilotTraining.Train(dataset, matchedConfig, null, config.Steps, runSeed, output, cancellationToken: cancellationToken);
                using (matched.Pilot)
                {
                    var (test, seconds) = Timed(() => Evaluation.ExactMatch(new TransformerLanguageModel(matched.Pilot), dataset.Test, dataset.MaxAnswerTokens));
                    paramsRow.Add(test.Accuracy, matched.Seconds, seconds);
                    output.WriteLine($"    parameter-matched: test {test.Accuracy:P1}, trained {matched.Seconds:F1} s");
                }
            }
        }

        var rows = new List<ResultRow>
        {
            pilotRow.ToRow("Pilot alone", pilotParameters),
            chosenRow.ToRow("Pilot+Copilot (λ chosen on validation)", pilotParameters + copilotParameters),
        };
        rows.AddRange(settings.Select((setting, s) => fusedRows[s].ToRow($"Pilot+Copilot, {Label(setting)}", pilotParameters + copilotParameters)));
        if (baselines.Contains("params"))
        {
            rows.Add(paramsRow.ToRow($"Baseline: parameter-matched Pilot (width {matchedWidth})", matchedParameters));
        }

        if (compute)
        {
            rows.Add(computeRow.ToRow($"Baseline: compute-matched Pilot ({string.Join("/", computeSteps)} steps)", pilotParameters));
        }

        PrintTable(output, seeds, rows);
        double trainOverhead = chosenRow.Train.Zip(pilotRow.Train, (j, p) => (j / p) - 1).Average();
        double inferenceOverhead = chosenRow.Inference.Zip(pilotRow.Inference, (f, p) => (f / p) - 1).Average();
        output.WriteLine($"Chosen λ per seed: {string.Join("; ", chosen)}. Joint Pilot weights identical to the Pilot-only run: {string.Join(", ", identical)}.");
        output.WriteLine($"Copilot skill per seed (teacher-forced, training / validation problems): {string.Join("; ", skills.Select(k => $"{k.Train:F3} / {k.Validation:F3}"))}.");
        output.WriteLine($"Training-time overhead of the joint run vs the Pilot alone: {trainOverhead:+0.0%;-0.0%}; inference overhead of fused greedy generation (chosen λ) vs the Pilot alone: {inferenceOverhead:+0.0%;-0.0%} (mean over seeds).");
        output.WriteLine($"Total wall time {total.Elapsed.TotalSeconds:F0} s; load average {LoadAverage()}.");
        return new ExperimentReport(seeds, rows, chosen, copilotLosses, identical);
    }

    private static void PrintTable(TextWriter output, IReadOnlyList<ulong> seeds, IReadOnlyList<ResultRow> rows)
    {
        output.WriteLine();
        output.WriteLine($"| model | {string.Join(" | ", seeds.Select(s => $"seed {s}"))} | mean | sd | parameters | train s | test greedy s |");
        output.WriteLine($"|---|{string.Concat(seeds.Select(_ => "---:|"))}---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            string sd = double.IsNaN(row.StandardDeviation) ? "–" : $"{100 * row.StandardDeviation:F1}";
            output.WriteLine($"| {row.Name} | {string.Join(" | ", row.Accuracies.Select(a => $"{100 * a:F1}"))} | {100 * row.Mean:F1} | {sd} | {row.Parameters:N0} | {row.TrainSeconds.Average():F1} | {row.InferenceSeconds.Average():F2} |");
        }

        output.WriteLine("Accuracies are test exact match in %; sd is the sample standard deviation over seeds; times are means over seeds.");
    }

    private static string Label((CopilotFusionMode Mode, double Lambda) setting) =>
        string.Create(CultureInfo.InvariantCulture, $"{setting.Mode} λ={setting.Lambda:G3}");

    private static (EvaluationResult Result, double Seconds) Timed(Func<EvaluationResult> evaluate)
    {
        var clock = Stopwatch.StartNew();
        var result = evaluate();
        return (result, clock.Elapsed.TotalSeconds);
    }

    private static long CountParameters(PilotConfig config, ArithmeticDataset dataset)
    {
        using var model = DecoderTransformer.Create(config.ModelOptions(dataset), 0);
        return model.ParameterCount;
    }

    /// <summary>The Pilot width (a multiple of the head count, same depth) whose parameter count is closest to <paramref name="target"/>.</summary>
    private static int MatchWidth(PilotConfig config, ArithmeticDataset dataset, long target)
    {
        int best = config.Width;
        long bestGap = long.MaxValue;
        for (int width = config.Width; width <= 8 * config.Width; width += config.Heads)
        {
            long gap = Math.Abs(CountParameters(config with { Width = width }, dataset) - target);
            if (gap < bestGap)
            {
                best = width;
                bestGap = gap;
            }
        }

        return best;
    }

    /// <summary>Trains a Copilot next to a frozen copy of the trained Pilot and prints its skill and λ sweep (validation and test).</summary>
    private static void FrozenPilotDiagnostic(ArithmeticDataset dataset, DecoderTransformer pilot, PilotConfig config, CopilotConfig copilot, int steps, ulong seed, (CopilotFusionMode Mode, double Lambda)[] settings, IReadOnlyList<ArithmeticProblem> trainProblems, TextWriter output)
    {
        output.WriteLine($"    diagnostic: a Copilot trained {steps} steps next to a frozen copy of this Pilot");
        var (frozen, frozenCopilot) = PilotTraining.TrainCopilotOnFrozenPilot(dataset, pilot, config, copilot, steps, seed, output);
        using (frozen)
        using (frozenCopilot)
        {
            var (trainSkill, _) = CopilotDiagnostics.Skill(frozen, frozenCopilot, trainProblems);
            var (validationSkill, _) = CopilotDiagnostics.Skill(frozen, frozenCopilot, dataset.Validation);
            output.WriteLine($"      frozen-Pilot Copilot skill: training problems {trainSkill:F3}, validation problems {validationSkill:F3}");
            using var fused = new CopilotLanguageModel<DecoderTransformer>(frozen, frozenCopilot);
            foreach (var setting in settings)
            {
                var pipeline = LogitPipeline.CreateBuilder().Add(new CopilotRectificationProcessor(fused.CorrectionSource, (float)setting.Lambda, setting.Mode)).Greedy();
                var validation = Evaluation.ExactMatch(fused, dataset.Validation, dataset.MaxAnswerTokens, pipeline, fused.Reset);
                var test = Evaluation.ExactMatch(fused, dataset.Test, dataset.MaxAnswerTokens, pipeline, fused.Reset);
                output.WriteLine($"      frozen-Pilot Copilot, {Label(setting)}: validation {validation.Accuracy:P1}, test {test.Accuracy:P1}");
            }
        }
    }

    /// <summary>Mean wall time of one Pilot forward and one Copilot forward at a typical generation step (milliseconds).</summary>
    private static (double PilotMs, double CopilotMs) ForwardCost(DecoderTransformer pilot, CopilotDecoder copilot, ArithmeticDataset dataset)
    {
        const int Calls = 200;
        int length = dataset.MaxSequenceLength - 1, queries = 3;
        pilot.eval();
        copilot.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var tokens = ones(new long[] { 1, length }, ScalarType.Int64);
            var input = zeros(new long[] { 1, queries, CharTokenizer.VocabSize });
            var memory = zeros(new long[] { 1, 2L * length, pilot.Width });
            var mask = CopilotDecoder.MemoryMask(new[] { length - queries + 1 }, new[] { queries }, queries, length);
            double Time(Func<Tensor> forward)
            {
                forward().Dispose();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < Calls; i++)
                {
                    forward().Dispose();
                }

                return clock.Elapsed.TotalMilliseconds / Calls;
            }

            return (Time(() => pilot.forward(tokens)), Time(() => copilot.forward(input, memory, mask)));
        }
        finally
        {
            pilot.train();
            copilot.train();
        }
    }

    /// <summary>One untimed pass over a few problems, so the first timed evaluation does not pay for JIT and allocator warm-up.</summary>
    private static void WarmUp(DecoderTransformer pilot, ArithmeticDataset dataset) =>
        Evaluation.ExactMatch(new TransformerLanguageModel(pilot), dataset.Validation.Take(20).ToList(), dataset.MaxAnswerTokens);

    private static bool SameWeights(DecoderTransformer a, DecoderTransformer b)
    {
        using var scope = NewDisposeScope();
        var left = a.parameters().ToArray();
        var right = b.parameters().ToArray();
        return left.Length == right.Length && left.Zip(right).All(pair => pair.First.shape.SequenceEqual(pair.Second.shape) && pair.First.eq(pair.Second).all().item<bool>());
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
    private sealed class Measurements
    {
        public List<double> Accuracy { get; } = new();

        public List<double> Train { get; } = new();

        public List<double> Inference { get; } = new();

        public void Add(double accuracy, double train, double inference)
        {
            Accuracy.Add(accuracy);
            Train.Add(train);
            Inference.Add(inference);
        }

        public ResultRow ToRow(string name, long parameters) => new(name, parameters, Accuracy, Train, Inference);
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using Logits.Flows.Testing;
using Logits.TorchSharp;

namespace Logits.Samples.ReflowToy2D;

/// <summary>The sample's entry point, callable in-process (the test suite runs it with <c>--quick</c>).</summary>
public static class ReflowToy
{
    /// <summary>The command line, printed by <c>--help</c> and after a wrong argument.</summary>
    public const string Usage = """
        Usage: dotnet run -c Release --project samples/ReflowToy2D [-- options]

          --quick                 small run (seconds instead of minutes)
          --seed N                random seed (an unsigned integer)
          --out DIR               folder for the PNG plots (default samples-output/reflow-toy2d, ignored by git)
          --experiment NAME       gaussian, triangle or both (default both)
          --threads N             torch intra-op threads, at least 1 (default: 1 on machines with 2 or fewer cores,
                                  else half the cores; libtorch's own default uses them all)
          --help, -h              this text

        Exit code: 0 when both goals are met, 1 when not, 2 for a wrong command line.
        """;

    /// <summary>Parses arguments, runs the experiments, prints the tables; returns 0 when the goals are met, 1 when not,
    /// and 2 (after printing the usage to <paramref name="error"/>, or to <paramref name="output"/> when it is null) for a wrong command line.</summary>
    public static int Execute(string[] args, TextWriter output, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (Array.Exists(args, a => a is "--help" or "-h"))
        {
            output.WriteLine(Usage);
            return 0;
        }

        IReadOnlyList<ExperimentReport> reports;
        try
        {
            reports = Run(args, output, cancellationToken);
        }
        catch (UsageException wrong)
        {
            var to = error ?? output;
            to.WriteLine(wrong.Message);
            to.WriteLine(Usage);
            return 2;
        }

        bool ok = true;
        foreach (var report in reports)
        {
            ok &= report.StraightnessGoalMet && report.OneStepGoalMet;
        }

        return ok ? 0 : 1;
    }

    /// <summary>Runs the experiments selected by <paramref name="args"/> and returns their reports.</summary>
    /// <exception cref="UsageException">An unknown argument, a missing value or a value of the wrong kind.</exception>
    public static IReadOnlyList<ExperimentReport> Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool quick = false;
        ulong? seed = null;
        string outDir = Path.Combine("samples-output", "reflow-toy2d");
        string experiment = "both";
        int threads = TorchRuntime.DefaultIntraOpThreads;
        for (int i = 0; i < args.Length; i++)
        {
            string option = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new UsageException($"'{option}' needs a value.");
            switch (option)
            {
                case "--quick": quick = true; break;
                case "--seed":
                    string text = Value();
                    seed = ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed)
                        ? parsed
                        : throw new UsageException($"'--seed' needs an unsigned integer; got '{text}'.");
                    break;
                case "--out": outDir = Value(); break;
                case "--experiment":
                    experiment = Value();
                    if (experiment is not ("gaussian" or "triangle" or "both"))
                    {
                        throw new UsageException($"'--experiment' must be gaussian, triangle or both; got '{experiment}'.");
                    }

                    break;
                case "--threads":
                    string count = Value();
                    threads = int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1
                        ? n
                        : throw new UsageException($"'--threads' needs an integer of at least 1; got '{count}'.");
                    break;
                default: throw new UsageException($"Unknown argument '{option}'.");
            }
        }

        // Process-wide: on a small shared machine one torch thread is many times faster than libtorch's default.
        TorchRuntime.SetIntraOpThreads(threads);
        Directory.CreateDirectory(outDir);
        var options = quick ? ToyOptions.Quick(outDir) : ToyOptions.Default(outDir);
        if (seed is not null)
        {
            options = options with { Seed = seed.Value };
        }

        output.WriteLine($"ReflowToy2D {(quick ? "(quick)" : string.Empty)} seed {options.Seed}, 1-RF {options.Iterations} it, 2-RF {options.ReflowIterations} it, batch {options.BatchSize}, {options.PairCount} reflow pairs, {threads} torch thread(s), plots in {Path.GetFullPath(outDir)}");
        var reports = new List<ExperimentReport>();
        if (experiment is "gaussian" or "both")
        {
            reports.Add(ReflowExperiment.Run("gaussian-to-triangle", GaussianMixture.StandardNormal(2), GaussianMixture.TriangleTarget(), options, output, cancellationToken));
        }

        if (experiment is "triangle" or "both")
        {
            reports.Add(ReflowExperiment.Run("triangle-to-triangle", GaussianMixture.TriangleSource(), GaussianMixture.TriangleTarget(), options, output, cancellationToken));
        }

        foreach (var report in reports)
        {
            Print(report, output);
        }

        return reports;
    }

    private static void Print(ExperimentReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"### {report.Name}  ({report.Seconds:F0} s; independent-coupling cost {report.IndependentCost:F2})");
        output.WriteLine("| flow | straightness | transport cost | ED N=1 | ED N=2 | ED N=4 | ED N=8 | ED N=100 | MSE-to-ref N=1 | N=2 | N=4 | N=8 | N=100 |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var flow in new[] { report.OneRectified, report.TwoRectified })
        {
            output.WriteLine($"| {flow.Name} | {flow.Straightness:F3} | {flow.TransportCost:F2} | {string.Join(" | ", Array.ConvertAll(flow.EnergyDistance, v => v.ToString("F4", CultureInfo.InvariantCulture)))} | {string.Join(" | ", Array.ConvertAll(flow.MseToReference, v => v.ToString("F3", CultureInfo.InvariantCulture)))} |");
        }

        double sRatio = report.TwoRectified.Straightness / report.OneRectified.Straightness;
        double edRatio = report.TwoRectified.EnergyDistance[0] / report.OneRectified.EnergyDistance[0];
        output.WriteLine($"straightness 2-RF/1-RF = {sRatio:F3} (goal ≤ 0.2: {(report.StraightnessGoalMet ? "met" : "NOT met")}); 1-step ED 2-RF/1-RF = {edRatio:F3} (goal ≤ 0.5: {(report.OneStepGoalMet ? "met" : "NOT met")})");
    }
}

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using Logits.Flows.Testing;

namespace Logits.Samples.ReflowToy2D;

/// <summary>The sample's entry point, callable in-process (the test suite runs it with <c>--quick</c>).</summary>
public static class ReflowToy
{
    /// <summary>Parses arguments, runs the experiments, prints the tables; returns 0 when the goals are met.</summary>
    public static int Execute(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var reports = Run(args, output, cancellationToken);
        bool ok = true;
        foreach (var report in reports)
        {
            ok &= report.StraightnessGoalMet && report.OneStepGoalMet;
        }

        return ok ? 0 : 1;
    }

    /// <summary>Runs the experiments selected by <paramref name="args"/> and returns their reports.</summary>
    public static IReadOnlyList<ExperimentReport> Run(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        bool quick = false;
        ulong? seed = null;
        string outDir = "reflow-toy-output";
        string experiment = "both";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--seed": seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outDir = args[++i]; break;
                case "--experiment": experiment = args[++i]; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'", nameof(args));
            }
        }

        Directory.CreateDirectory(outDir);
        var options = quick ? ToyOptions.Quick(outDir) : ToyOptions.Default(outDir);
        if (seed is not null)
        {
            options = options with { Seed = seed.Value };
        }

        output.WriteLine($"ReflowToy2D {(quick ? "(quick)" : string.Empty)} seed {options.Seed}, 1-RF {options.Iterations} it, 2-RF {options.ReflowIterations} it, batch {options.BatchSize}, {options.PairCount} reflow pairs, plots in {Path.GetFullPath(outDir)}");
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

using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Flows.Training;
using Logits.Randomness;
using Logits.TorchSharp.Flows;
using Logits.TorchSharp.Tensors;
using ScottPlot;

namespace Logits.Samples.ReflowToy2D;

/// <summary>Sizes of one run. <see cref="Default"/> follows the setting of the official Rectified Flow Colab notebook (scaled to finish in minutes on 2 cores).</summary>
public sealed record ToyOptions(
    int Iterations,
    int ReflowIterations,
    int BatchSize,
    int PoolSize,
    int EvaluationCount,
    int PairCount,
    int ReferenceSteps,
    ulong Seed,
    string? OutputDirectory)
{
    /// <summary>The default run.</summary>
    public static ToyOptions Default(string? output) => new(3000, 1500, 1024, 50_000, 2000, 10_000, 100, 2024, output);

    /// <summary>A seconds-long smoke run for tests.</summary>
    public static ToyOptions Quick(string? output) => new(250, 250, 256, 4000, 300, 1000, 20, 2024, output);
}

/// <summary>What one flow did on the evaluation set.</summary>
/// <param name="Name">"1-RF" or "2-RF".</param>
/// <param name="Straightness">Mean per-sample Ŝ from Euler N = 100 trajectories.</param>
/// <param name="TransportCost">E‖Z1 − Z0‖² with the reference (RK4) endpoints.</param>
/// <param name="Steps">The Euler step counts evaluated.</param>
/// <param name="EnergyDistance">Energy distance to an independent target set, per step count.</param>
/// <param name="MseToReference">E‖Z1^N − Z1^ref‖², per step count.</param>
public sealed record FlowReport(string Name, double Straightness, double TransportCost, int[] Steps, double[] EnergyDistance, double[] MseToReference);

/// <summary>Both flows of one experiment.</summary>
public sealed record ExperimentReport(string Name, double IndependentCost, FlowReport OneRectified, FlowReport TwoRectified, double Seconds)
{
    /// <summary>Straightness after reflow is at most 1/5 of before (issue 6 acceptance).</summary>
    public bool StraightnessGoalMet => TwoRectified.Straightness <= OneRectified.Straightness / 5;

    /// <summary>The 1-step energy distance after reflow is at most half of before (issue 6 acceptance).</summary>
    public bool OneStepGoalMet => TwoRectified.EnergyDistance[0] <= OneRectified.EnergyDistance[0] / 2;
}

/// <summary>
/// The reflow toy (docs/algorithms/flows.md#toy-experiment): train the 1-rectified flow (an MLP on independent pairs), generate reflow pairs by
/// RK4, fine-tune the 2-rectified flow on them, and measure straightness, transport cost and few-step accuracy.
/// </summary>
public static class ReflowExperiment
{
    private static readonly int[] EulerSteps = { 1, 2, 4, 8, 100 };

    /// <summary>Runs one experiment from <paramref name="source"/> to <paramref name="target"/>.</summary>
    public static ExperimentReport Run(string name, GaussianMixture source, GaussianMixture target, ToyOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var clock = Stopwatch.StartNew();
        var random = new Xoshiro256StarStar(options.Seed);
        float[] Draw(GaussianMixture mixture, int count)
        {
            var values = new float[2 * count];
            mixture.Sample(random, values);
            return values;
        }

        // Training pools, evaluation noise and an independent target set.
        var sourcePool = Draw(source, options.PoolSize);
        var targetPool = Draw(target, options.PoolSize);
        var evalNoise = Draw(source, options.EvaluationCount);
        var evalTarget = Draw(target, options.EvaluationCount);
        double independentCost = Metrics.MeanSquaredDistance(evalNoise, evalTarget);
        log.WriteLine($"== {name}: pools {options.PoolSize}, eval {options.EvaluationCount}, independent-coupling cost {independentCost:F3}");

        // 1. The 1-rectified flow on independent pairs (the Colab MLP: (x, t) → 100 → 100 → 2, tanh, Adam 5e-3).
        using var model1 = MlpVelocityModel.Create(2, seed: (long)options.Seed);
        var training = new VelocityTrainerOptions
        {
            Iterations = options.Iterations,
            BatchSize = options.BatchSize,
            LearningRate = 5e-3,
            Seed = options.Seed,
            ProgressInterval = Math.Max(1, options.Iterations / 5),
        };
        log.WriteLine("   training 1-RF");
        VelocityTrainer.Train(model1, FlowPairSource.Independent(sourcePool, targetPool, 2), training, Reporter(log), cancellationToken);
        var field1 = model1.AsVelocityField();
        var report1 = Evaluate("1-RF", field1, evalNoise, evalTarget, options, name, log);

        // 2. Reflow pairs: fresh noise through the 1-RF by RK4.
        var pairNoise = Draw(source, options.PairCount);
        using var noiseBatch = TorchLogitBatch.FromArray(pairNoise, options.PairCount, 2);
        using var pairs = ReflowPairs.Generate(field1, new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(options.ReferenceSteps)), noiseBatch);
        log.WriteLine($"   reflow pairs: {options.PairCount}, NFE {pairs.FunctionEvaluations}, coupling cost {pairs.TransportCost():F3}");

        // 3. The 2-rectified flow, fine-tuned from the 1-RF weights on the stored coupling.
        using var model2 = model1.Clone();
        log.WriteLine("   training 2-RF (fine-tuned from 1-RF)");
        VelocityTrainer.Train(
            model2,
            FlowPairSource.Coupled(pairs.Start.ToArray(), pairs.End.ToArray(), 2),
            new VelocityTrainerOptions
            {
                Iterations = options.ReflowIterations,
                BatchSize = options.BatchSize,
                LearningRate = 5e-3,
                Seed = options.Seed + 1,
                ProgressInterval = Math.Max(1, options.ReflowIterations / 5),
            },
            Reporter(log),
            cancellationToken);
        var report2 = Evaluate("2-RF", model2.AsVelocityField(), evalNoise, evalTarget, options, name, log);

        if (options.OutputDirectory is not null)
        {
            PlotSamples(Path.Combine(options.OutputDirectory, $"{name}-samples.png"), field1, model2.AsVelocityField(), evalNoise, evalTarget, name);
        }

        return new ExperimentReport(name, independentCost, report1, report2, clock.Elapsed.TotalSeconds);
    }

    private static FlowReport Evaluate(string flow, IVelocityField field, float[] noise, float[] target, ToyOptions options, string experiment, TextWriter log)
    {
        int n = noise.Length / 2;
        float[] Integrate(FlowSampler sampler, FlowTrajectory? path)
        {
            using var state = TorchLogitBatch.FromArray(noise, n, 2);
            sampler.Sample(field, state, FlowDirection.Forward, path);
            return state.ToArray();
        }

        var reference = Integrate(new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(options.ReferenceSteps)), null);
        var energy = new double[EulerSteps.Length];
        var mse = new double[EulerSteps.Length];
        double straightness = double.NaN;
        for (int i = 0; i < EulerSteps.Length; i++)
        {
            FlowTrajectory? path = EulerSteps[i] == 100 ? new FlowTrajectory() : null;
            var end = Integrate(FlowSampler.Euler(EulerSteps[i]), path);
            energy[i] = Metrics.EnergyDistance(end, target);
            mse[i] = Metrics.MeanSquaredDistance(end, reference);
            if (path is not null)
            {
                straightness = Straightness.Estimate(path);
                if (options.OutputDirectory is not null)
                {
                    PlotTrajectories(Path.Combine(options.OutputDirectory, $"{experiment}-{flow}-trajectories.png"), path, target, $"{experiment}: {flow} trajectories (straightness {straightness:F3})");
                }
            }
        }

        double cost = Metrics.MeanSquaredDistance(reference, noise);
        log.WriteLine($"   {flow}: straightness {straightness:F4}, transport cost {cost:F3}, ED(1 step) {energy[0]:F4}");
        return new FlowReport(flow, straightness, cost, (int[])EulerSteps.Clone(), energy, mse);
    }

    private static Progress Reporter(TextWriter log) => new(log);

    private static void PlotSamples(string path, IVelocityField first, IVelocityField second, float[] noise, float[] target, string experiment)
    {
        // Left: 1-RF with one Euler step; right: 2-RF with one Euler step; grey is an independent target set.
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var fields = new[] { first, second };
        string[] names = { "1-rectified flow", "2-rectified flow (after reflow)" };
        var colors = new[] { Colors.Crimson, Colors.RoyalBlue };
        for (int c = 0; c < 2; c++)
        {
            using var state = TorchLogitBatch.FromArray(noise, noise.Length / 2, 2);
            FlowSampler.Euler(1).Sample(fields[c], state);
            var plot = multiplot.GetPlot(c);
            AddPoints(plot, target, Colors.Gray.WithAlpha(0.35), 3, "target samples");
            AddPoints(plot, state.ToArray(), colors[c].WithAlpha(0.6), 3, "generated, one Euler step");
            SquarePlane(plot, $"{experiment}: {names[c]}, 1 step");
        }

        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        multiplot.SavePng(path, 1400, 720);
    }

    private static void PlotTrajectories(string path, FlowTrajectory trajectory, float[] target, string title)
    {
        var plot = new Plot();
        AddPoints(plot, target, Colors.Gray.WithAlpha(0.25), 3, "target samples");
        int shown = Math.Min(80, trajectory.Rows);
        var xs = new double[trajectory.Count];
        var ys = new double[trajectory.Count];
        for (int r = 0; r < shown; r++)
        {
            for (int s = 0; s < trajectory.Count; s++)
            {
                xs[s] = trajectory.States[s][2 * r];
                ys[s] = trajectory.States[s][(2 * r) + 1];
            }

            var line = plot.Add.ScatterLine((double[])xs.Clone(), (double[])ys.Clone(), Colors.SteelBlue.WithAlpha(0.7));
            line.LineWidth = 1;
            if (r == 0)
            {
                line.LegendText = $"paths of {shown} samples (Euler, N = {trajectory.Count - 1})";
            }
        }

        var starts = new float[2 * shown];
        var ends = new float[2 * shown];
        Array.Copy(trajectory.States[0], starts, 2 * shown);
        Array.Copy(trajectory.States[^1], ends, 2 * shown);
        AddPoints(plot, starts, Colors.ForestGreen, 6, "start z0 (source)");
        AddPoints(plot, ends, Colors.Crimson, 6, "end z1");
        SquarePlane(plot, title);
        plot.SavePng(path, 800, 800);
    }

    private static void AddPoints(Plot plot, float[] interleaved, Color color, float size, string label)
    {
        int n = interleaved.Length / 2;
        var xs = new double[n];
        var ys = new double[n];
        for (int i = 0; i < n; i++)
        {
            xs[i] = interleaved[2 * i];
            ys[i] = interleaved[(2 * i) + 1];
        }

        var points = plot.Add.ScatterPoints(xs, ys, color);
        points.MarkerSize = size;
        points.LegendText = label;
    }

    private static void SquarePlane(Plot plot, string title)
    {
        plot.Axes.SetLimits(-14, 14, -14, 14);
        plot.Axes.SquareUnits();
        plot.Title(title);
        plot.XLabel("x₁");
        plot.YLabel("x₂");
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private sealed class Progress(TextWriter log) : IProgress<VelocityTrainingProgress>
    {
        public void Report(VelocityTrainingProgress value) => log.WriteLine($"     iteration {value.Iteration,6}/{value.Iterations}: loss {value.Loss:F4}");
    }
}

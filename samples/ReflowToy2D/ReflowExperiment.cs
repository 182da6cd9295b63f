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
            PlotSamples(Path.Combine(options.OutputDirectory, $"{name}-samples.png"), field1, model2.AsVelocityField(), evalNoise, evalTarget);
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
                    PlotTrajectories(Path.Combine(options.OutputDirectory, $"{experiment}-{flow}-trajectories.png"), path, target);
                }
            }
        }

        double cost = Metrics.MeanSquaredDistance(reference, noise);
        log.WriteLine($"   {flow}: straightness {straightness:F4}, transport cost {cost:F3}, ED(1 step) {energy[0]:F4}");
        return new FlowReport(flow, straightness, cost, (int[])EulerSteps.Clone(), energy, mse);
    }

    private static Progress Reporter(TextWriter log) => new(log);

    private static void PlotSamples(string path, IVelocityField first, IVelocityField second, float[] noise, float[] target)
    {
        // Left to right: 1-RF one Euler step, 2-RF one Euler step; grey is the target set.
        const int size = 400;
        var canvases = new[] { new Canvas(size, -14, 14), new Canvas(size, -14, 14) };
        var fields = new[] { first, second };
        for (int c = 0; c < 2; c++)
        {
            for (int i = 0; i < target.Length / 2; i++)
            {
                canvases[c].Dot(target[2 * i], target[(2 * i) + 1], (190, 190, 190));
            }

            using var state = TorchLogitBatch.FromArray(noise, noise.Length / 2, 2);
            FlowSampler.Euler(1).Sample(fields[c], state);
            var end = state.ToArray();
            for (int i = 0; i < end.Length / 2; i++)
            {
                canvases[c].Dot(end[2 * i], end[(2 * i) + 1], c == 0 ? ((byte)200, (byte)30, (byte)30) : ((byte)30, (byte)60, (byte)200));
            }
        }

        SideBySide(path, canvases);
    }

    private static void PlotTrajectories(string path, FlowTrajectory trajectory, float[] target)
    {
        var canvas = new Canvas(400, -14, 14);
        for (int i = 0; i < target.Length / 2; i++)
        {
            canvas.Dot(target[2 * i], target[(2 * i) + 1], (215, 215, 215), 0);
        }

        int shown = Math.Min(80, trajectory.Rows);
        for (int r = 0; r < shown; r++)
        {
            for (int s = 0; s + 1 < trajectory.Count; s++)
            {
                var a = trajectory.States[s];
                var b = trajectory.States[s + 1];
                canvas.Line(a[2 * r], a[(2 * r) + 1], b[2 * r], b[(2 * r) + 1], (60, 90, 160));
            }

            var first = trajectory.States[0];
            var last = trajectory.States[^1];
            canvas.Dot(first[2 * r], first[(2 * r) + 1], (30, 150, 60), 2);
            canvas.Dot(last[2 * r], last[(2 * r) + 1], (200, 40, 40), 2);
        }

        canvas.Save(path);
    }

    private static void SideBySide(string path, Canvas[] canvases)
    {
        // Re-render by saving each and concatenating rows would need a decoder; draw both into one wide buffer instead.
        int size = canvases[0].Size;
        var wide = new byte[size * size * 3 * canvases.Length];
        for (int c = 0; c < canvases.Length; c++)
        {
            var pixels = canvases[c].Pixels;
            for (int y = 0; y < size; y++)
            {
                Buffer.BlockCopy(pixels, y * size * 3, wide, ((y * size * canvases.Length) + (c * size)) * 3, size * 3);
            }
        }

        PngWriter.Write(path, size * canvases.Length, size, wide);
    }

    private sealed class Progress(TextWriter log) : IProgress<VelocityTrainingProgress>
    {
        public void Report(VelocityTrainingProgress value) => log.WriteLine($"     iteration {value.Iteration,6}/{value.Iterations}: loss {value.Loss:F4}");
    }
}

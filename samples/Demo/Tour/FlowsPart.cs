using System.Diagnostics;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Flows.Training;
using Logits.Randomness;
using Logits.TorchSharp.Flows;
using Logits.TorchSharp.Tensors;
using Spectre.Console;

namespace Logits.Samples.Demo.Tour;

/// <summary>
/// Part 3: rectified flow (Liu et al., arXiv 2209.03003) from a 2-D Gaussian to a three-mode mixture, then one reflow:
/// the 2-rectified flow's paths are straighter, so one Euler step lands closer to the many-step answer.
/// </summary>
internal static class FlowsPart
{
    private const int Iterations = 300;
    private const int BatchSize = 256;
    private const int Pool = 4000;
    private const int Pairs = 1000;
    private const int Evaluation = 1000;
    private const int ReferenceSteps = 20;

    public static void Run(TourOptions options)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.Write(new Rule("[bold]3. Flows: rectified flow and reflow on a 2-D toy (quick form)[/]").LeftJustified());
        var clock = Stopwatch.StartNew();
        var random = new Xoshiro256StarStar(2024);
        var source = GaussianMixture.StandardNormal(2);
        var target = GaussianMixture.TriangleTarget();
        float[] Draw(GaussianMixture mixture, int count)
        {
            var values = new float[2 * count];
            mixture.Sample(random, values);
            return values;
        }

        var noise = Draw(source, Evaluation);
        var training = new VelocityTrainerOptions { Iterations = Iterations, BatchSize = BatchSize, LearningRate = 5e-3, Seed = 1 };
        using var first = MlpVelocityModel.Create(2, seed: 1);
        using var second = AnsiConsole.Status().Start("training the 1-rectified flow", status =>
        {
            // 1-RF: independent (noise, data) pairs. 2-RF: the 1-RF's own (noise, endpoint) pairs, fine-tuned from its weights.
            VelocityTrainer.Train(first, FlowPairSource.Independent(Draw(source, Pool), Draw(target, Pool), 2), training);
            status.Status("reflow: pairs from the 1-rectified flow, then the 2-rectified flow");
            using var pairNoise = TorchLogitBatch.FromArray(Draw(source, Pairs), Pairs, 2);
            using var pairs = ReflowPairs.Generate(first.AsVelocityField(), new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(ReferenceSteps)), pairNoise);
            var model = first.Clone();
            VelocityTrainer.Train(model, FlowPairSource.Coupled(pairs.Start.ToArray(), pairs.End.ToArray(), 2), new VelocityTrainerOptions { Iterations = Iterations, BatchSize = BatchSize, LearningRate = 5e-3, Seed = 2 });
            return model;
        });

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("flow")
            .AddColumn(new TableColumn("straightness Ŝ (0 = straight)").RightAligned())
            .AddColumn(new TableColumn("1-step error vs 20-step RK4").RightAligned())
            .AddColumn(new TableColumn("4-step error").RightAligned());
        foreach (var (name, model) in new[] { ("1-rectified", first), ("2-rectified (one reflow)", second) })
        {
            var field = model.AsVelocityField();
            var reference = Integrate(field, new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(ReferenceSteps)), noise, null);
            var path = new FlowTrajectory();
            Integrate(field, FlowSampler.Euler(100), noise, path);
            double oneStep = MeanSquaredDistance(Integrate(field, FlowSampler.Euler(1), noise, null), reference);
            double fourSteps = MeanSquaredDistance(Integrate(field, FlowSampler.Euler(4), noise, null), reference);
            table.AddRow(name, $"{Straightness.Estimate(path):F4}", $"{oneStep:F3}", $"{fourSteps:F3}");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]{Iterations} training iterations per flow, {Pairs} reflow pairs, {Evaluation} evaluation points; error = mean squared distance of the endpoints; {clock.Elapsed.TotalSeconds:0} s. "
            + "Full run with plots: dotnet run -c Release --project samples/ReflowToy2D; the rules: docs/flows.md.[/]");
    }

    private static float[] Integrate(IVelocityField field, FlowSampler sampler, float[] noise, FlowTrajectory? path)
    {
        using var state = TorchLogitBatch.FromArray(noise, noise.Length / 2, 2);
        sampler.Sample(field, state, FlowDirection.Forward, path);
        return state.ToArray();
    }

    private static double MeanSquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }

        return sum / (a.Length / 2);
    }
}

using System;
using System.Collections.Generic;
using System.Threading;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Flows.Training;
using Logits.Randomness;
using Logits.Tensors;
using Logits.TorchSharp.Flows;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Flows;

/// <summary>The TorchSharp MLP velocity model, its sampler adapter and the seeded trainer.</summary>
public sealed class MlpVelocityModelTests
{
    private static (float[] Sources, float[] Targets) GaussianShiftPools(int n, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var sources = new float[2 * n];
        var targets = new float[2 * n];
        GaussianMixture.StandardNormal(2).Sample(random, sources);
        new GaussianMixture(new double[] { 4, 0 }, 2, 1).Sample(random, targets);
        return (sources, targets);
    }

    [Fact]
    public void Model_shapes_seeding_and_clone()
    {
        using var a = MlpVelocityModel.Create(3, hiddenWidth: 16, timeFrequencies: 2, seed: 5);
        using var b = MlpVelocityModel.Create(3, hiddenWidth: 16, timeFrequencies: 2, seed: 5);
        using var c = a.Clone();
        using var scope = NewDisposeScope();
        var x = randn(7, 3);
        var t = rand(7);
        var va = a.forward(x, t);
        va.shape.Should().Equal(7, 3);
        va.allclose(b.forward(x, t)).Should().BeTrue();
        va.allclose(c.forward(x, t)).Should().BeTrue();
        FluentActions.Invoking(() => MlpVelocityModel.Create(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("dimension");
        FluentActions.Invoking(() => MlpVelocityModel.Create(2, timeFrequencies: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timeFrequencies");
    }

    [Theory]
    [InlineData(OdeSolver.Euler, 8)]
    [InlineData(OdeSolver.Heun, 4)]
    [InlineData(OdeSolver.RungeKutta4, 4)]
    public void Cpu_and_torch_solvers_agree_on_the_same_model(OdeSolver solver, int steps)
    {
        using var model = MlpVelocityModel.Create(2, hiddenWidth: 32, timeFrequencies: 3, seed: 1);
        model.eval();
        var field = model.AsVelocityField();
        var (z0, _) = GaussianShiftPools(300, 9);
        var sampler = new FlowSampler(solver, TimeGrid.Uniform(steps));
        using var cpu = CpuLogitBatch.FromRows(z0, 300, 2);
        using var torch = TorchLogitBatch.FromArray(z0, 300, 2);
        sampler.Sample(field, cpu);
        sampler.Sample(field, torch);
        var a = cpu.ToArray();
        var b = torch.ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            ((double)Math.Abs(a[i] - b[i])).Should().BeLessThanOrEqualTo(1e-5 * Math.Max(1, Math.Abs(a[i])), $"element {i}");
        }
    }

    [Fact]
    public void Trainer_learns_the_gaussian_shift_reports_progress_and_is_seeded()
    {
        var (sources, targets) = GaussianShiftPools(4000, 3);
        var pairs = FlowPairSource.Independent(sources, targets, 2);
        var options = new VelocityTrainerOptions { Iterations = 400, BatchSize = 256, LearningRate = 5e-3, Seed = 7, ProgressInterval = 100 };
        var reports = new List<VelocityTrainingProgress>();
        using var model = MlpVelocityModel.Create(2, hiddenWidth: 64, seed: 2);
        double final = VelocityTrainer.Train(model, pairs, options, new SynchronousProgress(reports.Add));
        reports.Should().HaveCount(4);
        reports[^1].Iteration.Should().Be(400);
        reports[^1].Loss.Should().Be(final);
        final.Should().BeLessThan(reports[0].Loss);

        // The irreducible loss of this coupling per element is E_t[2 − (2t − 1)²/(t² + (1 − t)²)] = π/2 (the conditional
        // variance of x1 − x0 given x_t; with s = 2t − 1 the integral is ∫ s²/(1 + s²) ds over [−1, 1] = 2 − π/2).
        final.Should().BeInRange((Math.PI / 2) - 0.15, (Math.PI / 2) + 0.15);

        // One Euler step from N(0, I) lands near the target mean (4, 0) (exact flow: exactly the mean).
        using var state = CpuLogitBatch.FromRows(sources.AsSpan(0, 2000), 1000, 2);
        FlowSampler.Euler(1).Sample(model.AsVelocityField(), state);
        var end = state.ToArray();
        double mx = 0, my = 0;
        for (int i = 0; i < 1000; i++)
        {
            mx += end[2 * i] / 1000.0;
            my += end[(2 * i) + 1] / 1000.0;
        }

        mx.Should().BeApproximately(4, 0.3);
        my.Should().BeApproximately(0, 0.3);

        // Same seeds, same weights.
        using var again = MlpVelocityModel.Create(2, hiddenWidth: 64, seed: 2);
        VelocityTrainer.Train(again, pairs, options).Should().Be(final);
    }

    [Fact]
    public void Trainer_supports_huber_time_weighting_coupled_pairs_and_cancellation()
    {
        var (sources, targets) = GaussianShiftPools(500, 4);
        for (int i = 0; i < targets.Length; i++)
        {
            targets[i] = sources[i] + (i % 2 == 0 ? 4 : 0);
        }

        using var model = MlpVelocityModel.Create(2, hiddenWidth: 32, seed: 3);
        var options = new VelocityTrainerOptions { Iterations = 300, BatchSize = 128, Loss = VelocityLoss.PseudoHuber, WeightByTime = true, TimeSampler = new UShapedTimeSampler(), Seed = 1 };
        double loss = VelocityTrainer.Train(model, FlowPairSource.Coupled(sources, targets, 2), options);
        loss.Should().BeLessThan(0.5);

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        FluentActions.Invoking(() => VelocityTrainer.Train(model, FlowPairSource.Coupled(sources, targets, 2), options, cancellationToken: cts.Token))
            .Should().Throw<OperationCanceledException>();
        FluentActions.Invoking(() => VelocityTrainer.Train(model, FlowPairSource.Coupled(sources, targets, 2), new VelocityTrainerOptions { BatchSize = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("BatchSize");
        FluentActions.Invoking(() => FlowPairSource.Coupled(sources, new float[4], 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("ends");
    }

    private sealed class SynchronousProgress(Action<VelocityTrainingProgress> report) : IProgress<VelocityTrainingProgress>
    {
        public void Report(VelocityTrainingProgress value) => report(value);
    }
}

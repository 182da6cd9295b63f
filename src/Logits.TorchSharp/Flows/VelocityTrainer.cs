using Logits.Flows.Training;
using Logits.Randomness;
using static TorchSharp.torch.nn;

namespace Logits.TorchSharp.Flows;

/// <summary>The regression loss a <see cref="VelocityTrainer"/> minimises.</summary>
public enum VelocityLoss
{
    /// <summary><c>‖v_θ − u‖²</c> averaged over elements and the batch (the official Rectified Flow code).</summary>
    SquaredError,

    /// <summary>rfpp's pseudo-Huber <c>√(‖r‖² + c²) − c</c> per sample with c = 0.00054·√d, averaged over the batch.</summary>
    PseudoHuber,
}

/// <summary>Settings of a <see cref="VelocityTrainer"/> run. Defaults are the official Colab toy's.</summary>
public sealed class VelocityTrainerOptions
{
    /// <summary>Optimiser steps (default 10 000).</summary>
    public int Iterations { get; init; } = 10_000;

    /// <summary>Pairs per step (default 2048).</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Adam learning rate (default 5e-3).</summary>
    public double LearningRate { get; init; } = 5e-3;

    /// <summary>Seeds the pair indices and times (host <see cref="Xoshiro256StarStar"/>; default 0).</summary>
    public ulong Seed { get; init; }

    /// <summary>The timestep distribution (default <c>U[0, 1]</c>, the paper's and the Colab's).</summary>
    public ITimeSampler TimeSampler { get; init; } = new UniformTimeSampler(0);

    /// <summary>The loss (default squared error).</summary>
    public VelocityLoss Loss { get; init; } = VelocityLoss.SquaredError;

    /// <summary>Multiply each sample's loss by rfpp's <c>w_H(t) = t</c> (the "(1 − t)" weighting in rfpp's time; default off).</summary>
    public bool WeightByTime { get; init; }

    /// <summary>Report progress every this many iterations (default 100).</summary>
    public int ProgressInterval { get; init; } = 100;

    internal void Validate()
    {
        Require.AtLeast(Iterations, 1, nameof(Iterations));
        Require.AtLeast(BatchSize, 1, nameof(BatchSize));
        Require.FinitePositive(LearningRate, nameof(LearningRate));
        Require.AtLeast(ProgressInterval, 1, nameof(ProgressInterval));
        Require.Defined(Loss, nameof(Loss));

        ArgumentNullException.ThrowIfNull(TimeSampler, nameof(TimeSampler));
    }
}

/// <summary>Progress of a training run.</summary>
/// <param name="Iteration">Completed iterations.</param>
/// <param name="Iterations">Total iterations.</param>
/// <param name="Loss">The mean loss over the iterations since the last report.</param>
public readonly record struct VelocityTrainingProgress(int Iteration, int Iterations, double Loss);

/// <summary>
/// Trains a velocity model by the Rectified Flow regression (docs/algorithms/flows.md#loss, docs/algorithms/flows.md#pseudo-huber-loss): for pairs (x0, x1) and
/// <c>t ~ TimeSampler</c>, minimise <c>loss(v_θ(t·x1 + (1 − t)·x0, t), x1 − x0)</c> with Adam.
/// </summary>
/// <remarks>
/// Seeded: pair indices and times come from a host <see cref="Xoshiro256StarStar"/> stream, so a run is reproducible
/// given the model's initial weights (see <see cref="MlpVelocityModel.Create"/>) and libtorch's deterministic CPU
/// kernels. Cancellation is checked every iteration and throws <see cref="OperationCanceledException"/>; the model
/// keeps the weights of the last completed step. Every temporary tensor lives in a per-iteration dispose scope.
/// </remarks>
public static class VelocityTrainer
{
    /// <summary>Trains <paramref name="model"/> in place.</summary>
    /// <param name="model">The model <c>(x [B, d], t [B]) → [B, d]</c>; float32 on the CPU.</param>
    /// <param name="pairs">Where pairs come from.</param>
    /// <param name="options">Settings (null: defaults).</param>
    /// <param name="progress">Receives a report every <see cref="VelocityTrainerOptions.ProgressInterval"/> iterations.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The mean loss of the last reporting window.</returns>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static double Train(Module<Tensor, Tensor, Tensor> model, FlowPairSource pairs, VelocityTrainerOptions? options = null, IProgress<VelocityTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new VelocityTrainerOptions();
        options.Validate();
        int d = pairs.Dimension;
        int batch = options.BatchSize;
        var random = new Xoshiro256StarStar(options.Seed);
        double c = 0.00054 * Math.Sqrt(d);
        using var sources = tensor(pairs.Sources, new long[] { pairs.SourceCount, d }, ScalarType.Float32);
        using var targets = tensor(pairs.Targets, new long[] { pairs.TargetCount, d }, ScalarType.Float32);
        using var optimizer = new HeldScalarAdamW(model.parameters(), options.LearningRate);
        var sourceIndex = new long[batch];
        var targetIndex = new long[batch];
        var times = new float[batch];
        double windowSum = 0;
        int windowCount = 0;
        double lastWindow = double.NaN;
        model.train();
        for (int iteration = 1; iteration <= options.Iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < batch; i++)
            {
                sourceIndex[i] = (long)(random.NextDouble() * pairs.SourceCount);
                targetIndex[i] = pairs.IsCoupled ? sourceIndex[i] : (long)(random.NextDouble() * pairs.TargetCount);
            }

            options.TimeSampler.Sample(random, times);
            using (var scope = NewDisposeScope())
            {
                var x0 = sources.index_select(0, tensor(sourceIndex));
                var x1 = targets.index_select(0, tensor(targetIndex));
                var t = tensor(times);
                var xt = (x1 * t.unsqueeze(1)).Plus(x0 * t.unsqueeze(1).SubtractedFrom(1));
                var residual = model.forward(xt, t) - (x1 - x0);
                Tensor perSample = options.Loss == VelocityLoss.SquaredError
                    ? residual.Squared().mean(new long[] { 1 })
                    : StablePseudoHuber(residual.Squared().sum(new long[] { 1 }), c);
                if (options.WeightByTime)
                {
                    perSample = perSample * t;
                }

                var loss = perSample.mean();
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step();
                windowSum += loss.item<float>();
                windowCount++;
            }

            if (iteration % options.ProgressInterval == 0 || iteration == options.Iterations)
            {
                lastWindow = windowSum / windowCount;
                progress?.Report(new VelocityTrainingProgress(iteration, options.Iterations, lastWindow));
                windowSum = 0;
                windowCount = 0;
            }
        }

        model.eval();
        return lastWindow;
    }

    /// <summary><c>s / (√(s + c²) + c)</c>: the pseudo-Huber value without cancellation for small s.</summary>
    private static Tensor StablePseudoHuber(Tensor squaredNorm, double c) => squaredNorm / squaredNorm.Plus(c * c).sqrt().Plus(c);
}

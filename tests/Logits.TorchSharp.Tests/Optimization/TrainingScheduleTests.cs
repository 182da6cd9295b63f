using System;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Diffusion;
using Logits.TorchSharp.Optimization;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Optimization;

/// <summary>The weight average, the trainer's settable rate and the thread setting.</summary>
public sealed class TrainingScheduleTests
{
    [Fact]
    public void The_average_follows_its_warm_up_decay_and_is_copied_into_the_module()
    {
        using var module = nn.Linear(2, 1, hasBias: false);
        var weight = module.parameters().Single();
        using (no_grad())
        {
            weight.copy_(tensor(new float[,] { { 1, 2 } }));
        }

        using var average = new ExponentialMovingAverage(module, decay: 0.5);
        double[] expected = { 1, 2 };
        float[][] values = { new float[] { 3, 0 }, new float[] { -1, 4 }, new float[] { 5, 5 } };
        foreach (var value in values)
        {
            using (no_grad())
            {
                weight.copy_(tensor(value).reshape(1, 2));
            }

            average.Update();

            // d_t = min(0.5, (1 + t)/(10 + t)): 2/11, then 3/12, then 0.5 caps 4/13.
            double decay = Math.Min(0.5, (1.0 + average.Updates) / (10.0 + average.Updates));
            expected[0] = (decay * expected[0]) + ((1 - decay) * value[0]);
            expected[1] = (decay * expected[1]) + ((1 - decay) * value[1]);
        }

        average.Updates.Should().Be(3);
        weight.data<float>().ToArray().Should().Equal(5f, 5f); // the module keeps its own weights until copied
        average.CopyToModule();
        var copied = weight.data<float>().ToArray();
        copied[0].Should().BeApproximately((float)expected[0], 1e-6f);
        copied[1].Should().BeApproximately((float)expected[1], 1e-6f);
    }

    [Fact]
    public void The_average_validates_and_refuses_use_after_dispose()
    {
        using var module = nn.Linear(2, 1);
        FluentActions.Invoking(() => new ExponentialMovingAverage(module, decay: 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("decay");
        FluentActions.Invoking(() => new ExponentialMovingAverage(module, decay: -0.1)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new ExponentialMovingAverage(null!)).Should().Throw<ArgumentNullException>();
        var average = new ExponentialMovingAverage(module);
        average.Dispose();
        average.Dispose();
        FluentActions.Invoking(average.Update).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(average.CopyToModule).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void The_trainer_steps_at_the_rate_it_is_given()
    {
        manual_seed(3);
        using var model = MaskedTokenTransformer.Create(5, 4, width: 8, heads: 2, layers: 1);
        using var trainer = new RaddTrainer(model, learningRate: 1e-3);
        trainer.LearningRate.Should().Be(1e-3);
        trainer.LearningRate = 2.5e-4;
        trainer.LearningRate.Should().Be(2.5e-4);
        FluentActions.Invoking(() => trainer.LearningRate = -1e-3).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => trainer.LearningRate = double.NaN).Should().Throw<ArgumentOutOfRangeException>();

        // A step moves the weights by about the rate (Adam's first step is lr·sign(g) per weight).
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        using var clean = tensor(new long[] { 0, 1, 2, 3, 4, 3, 2, 1 }, new long[] { 2, 4 });
        trainer.Step(clean);
        double largest = model.parameters().Zip(before, (p, b) => (p - b).abs().max().item<float>()).Max();
        largest.Should().BeApproximately(2.5e-4, 2.5e-5);
        foreach (var tensorBefore in before)
        {
            tensorBefore.Dispose();
        }
    }

    [Fact]
    public void Intra_op_threads_are_set_and_validated()
    {
        TorchRuntime.DefaultIntraOpThreads.Should().Be(Environment.ProcessorCount <= 2 ? 1 : Environment.ProcessorCount / 2);
        int previous = TorchRuntime.IntraOpThreads;
        try
        {
            TorchRuntime.SetIntraOpThreads(1);
            TorchRuntime.IntraOpThreads.Should().Be(1);
        }
        finally
        {
            TorchRuntime.SetIntraOpThreads(previous);
        }

        FluentActions.Invoking(() => TorchRuntime.SetIntraOpThreads(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("threads");
    }
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Optimization;
using Logits.TorchSharp.Optimization;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Optimization;

/// <summary>Large-step LR+GD and the perceptrons on torch: the paper's Table 1 row, equivalence with the CPU steps, invalid input.</summary>
public sealed class TorchLargeStepSeparationTests
{
    [Theory]
    [InlineData(SeparationMethod.GradientDescent, 100, 308)]
    [InlineData(SeparationMethod.NormalizedGradientDescent, 100, 2)]
    [InlineData(SeparationMethod.NormalizedGradientDescent, 10, 2)]
    [InlineData(SeparationMethod.NormalizedGradientDescent, 1, 16)]
    [InlineData(SeparationMethod.NormalizedGradientDescent, 0.1, 157)]
    [InlineData(SeparationMethod.BatchPerceptron, 1, 301)]
    [InlineData(SeparationMethod.NormalizedBatchPerceptron, 1, 2)]
    public void Reproduces_Table_1_at_n_1000(SeparationMethod method, double gamma, int iterations)
    {
        using var scope = NewDisposeScope();
        var data = BinaryClassificationData.WorstCase(1000);
        var features = tensor(data.Features.ToArray(), 1000, 2);
        var labels = tensor(data.Labels.ToArray());
        var result = TorchLargeStepSeparation.Separate(new LargeStepSeparation(method, gamma), features, labels);
        result.Converged.Should().BeTrue();
        result.Iterations.Should().Be(iterations);
    }

    [Fact]
    public void Steps_agree_with_the_cpu()
    {
        var rng = new Random(9);
        foreach (var method in Enum.GetValues<SeparationMethod>())
        {
            for (int trial = 0; trial < 10; trial++)
            {
                using var scope = NewDisposeScope();
                int n = rng.Next(1, 40), d = rng.Next(1, 6);
                var x = Enumerable.Range(0, n * d).Select(_ => (rng.NextDouble() * 4) - 2).ToArray();
                var y = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0 ? -1 : 1).ToArray();
                var theta = Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
                var definition = new LargeStepSeparation(method, Math.Pow(10, rng.Next(-1, 4)));
                int t = rng.Next(0, 3);
                var data = new BinaryClassificationData(x, y);
                var cpu = new double[d];
                definition.Step(data, theta, t, cpu);
                var torchStep = TorchLargeStepSeparation.Step(definition, tensor(x, n, d), tensor(y), tensor(theta), t).data<double>().ToArray();
                for (int j = 0; j < d; j++)
                {
                    torchStep[j].Should().BeApproximately(cpu[j], 1e-12 * Math.Max(1, Math.Abs(cpu[j])), $"{method}, trial {trial}");
                }

                double loss = data.Loss(theta);
                TorchLargeStepSeparation.Loss(tensor(x, n, d), tensor(y), tensor(theta)).item<double>().Should().BeApproximately(loss, 1e-12 * Math.Max(1, loss));
            }
        }
    }

    [Fact]
    public void Invalid_input()
    {
        using var scope = NewDisposeScope();
        var definition = new LargeStepSeparation(SeparationMethod.GradientDescent);
        var x = tensor(new[] { 1.0, 0, 0, 1 }, 2, 2);
        FluentActions.Invoking(() => TorchLargeStepSeparation.Separate(definition, x, tensor(new[] { 1, 0 }))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchLargeStepSeparation.Separate(definition, x, tensor(new[] { 1, -1, 1 }))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchLargeStepSeparation.Step(definition, x, tensor(new[] { 1, -1 }), zeros(3, ScalarType.Float64), 0)).Should().Throw<ArgumentException>().WithParameterName("theta");
        FluentActions.Invoking(() => TorchLargeStepSeparation.Step(definition, x, tensor(new[] { 1, -1 }), zeros(2, ScalarType.Float64), -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("iteration");
        FluentActions.Invoking(() => TorchLargeStepSeparation.Separate(definition, tensor(new[] { 1.0, double.NaN }, 1, 2), tensor(new[] { 1 }))).Should().Throw<ArgumentException>().WithParameterName("features");
    }
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Classification;
using Logits.TorchSharp.Classification;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Classification;

/// <summary>The pooled-variance naive Bayes fit on torch: the worked vector, equivalence with the CPU head, invalid input.</summary>
public sealed class TorchGaussianNaiveBayesTests
{
    [Fact]
    public void Three_class_vector()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 0, 0, 1, 0, 0, 1, 3, 3, 4, 3, 5, 5, 6, 4 }, 7, 2);
        var (w, b) = TorchGaussianNaiveBayes.Fit(x, tensor(new long[] { 0, 0, 0, 1, 1, 2, 2 }), 3);
        var weights = w.data<double>().ToArray();
        var expected = new[] { 1.4, 2.0, 14.7, 18.0, 23.1, 27.0 };
        for (int i = 0; i < 6; i++)
        {
            weights[i].Should().BeApproximately(expected[i], 1e-6);
        }

        var bias = b.data<double>().ToArray();
        bias[0].Should().BeApproximately(-1.413965, 1e-6);
        bias[1].Should().BeApproximately(-53.977763, 1e-6);
        bias[2].Should().BeApproximately(-125.527762, 1e-6);
    }

    [Fact]
    public void Agrees_with_the_cpu_head()
    {
        var rng = new Random(17);
        for (int trial = 0; trial < 20; trial++)
        {
            using var scope = NewDisposeScope();
            int k = rng.Next(2, 6), n = rng.Next(1, 20), m = rng.Next(k, 150);
            var y = Enumerable.Range(0, m).Select(r => r < k ? r : rng.Next(k)).ToArray();
            var x = Enumerable.Range(0, m * n).Select(i => (3 * y[i / n]) + (rng.NextDouble() * 2)).ToArray();
            var cpu = GaussianNaiveBayesHead.Fit(x, y, k).ToLinear();
            var dtype = trial % 2 == 0 ? ScalarType.Float64 : ScalarType.Float32;
            var features = tensor(x, m, n).to_type(dtype);
            var roundTrip = features.to_type(ScalarType.Float64).data<double>().ToArray();
            var reference = GaussianNaiveBayesHead.Fit(roundTrip, y, k).ToLinear();
            var (w, b) = TorchGaussianNaiveBayes.Fit(features, tensor(y), k);
            Relative(w.data<double>().ToArray(), reference.Weights.ToArray()).Should().BeLessThan(1e-12);
            Relative(b.data<double>().ToArray(), reference.Bias.ToArray()).Should().BeLessThan(1e-12);
            if (dtype == ScalarType.Float64)
            {
                Relative(w.data<double>().ToArray(), cpu.Weights.ToArray()).Should().BeLessThan(1e-12);
            }
        }
    }

    [Fact]
    public void The_linear_head_feeds_a_torch_logit_batch_like_a_cpu_one()
    {
        var head = GaussianNaiveBayesHead.Fit(new double[] { 0, 0, 1, 0, 0, 1, 3, 3, 4, 3, 5, 5, 6, 4 }, new[] { 0, 0, 0, 1, 1, 2, 2 }, 3).ToLinear();
        var features = new float[] { 2, 2, 0, 0, 6, 5, 1, 3 };
        using var cpu = new Logits.Tensors.CpuLogitBatch(4, 3);
        using var onTorch = new Logits.TorchSharp.Tensors.TorchLogitBatch(4, 3);
        head.WriteLogits(features, cpu);
        head.WriteLogits(features, onTorch);
        onTorch.ToArray().Should().Equal(cpu.ToArray());
        var probabilities = new float[12];
        using var softmax = onTorch.CreateLike();
        onTorch.Kernels.Softmax(onTorch, softmax);
        softmax.CopyTo(probabilities);
        var expected = new double[3];
        head.Probabilities(new double[] { 2, 2 }, expected);
        for (int k = 0; k < 3; k++)
        {
            ((double)probabilities[k]).Should().BeApproximately(expected[k], 1e-6);
        }
    }

    [Fact]
    public void Invalid_input()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new double[] { 0, 1, 2, 1, 4, 5, 6, 3 }, 4, 2);
        var y = tensor(new long[] { 0, 0, 1, 1 });
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, y, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classCount");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, y, 2, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("varSmoothing");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, tensor(new long[] { 0, 0, 2, 1 }), 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, tensor(new long[] { 0, 0, 1 }), 2)).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, tensor(new[] { 0.0, 0, 1, 1 }), 2)).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(tensor(new[] { 0.0, double.NaN }, 1, 2), tensor(new long[] { 0 }), 2)).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(x, y, 3)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => TorchGaussianNaiveBayes.Fit(tensor(new double[] { 0, 5, 1, 5, 2, 7, 3, 7 }, 4, 2), y, 2, 0)).Should().Throw<InvalidOperationException>();
    }

    private static double Relative(double[] actual, double[] expected)
    {
        double scale = expected.Max(Math.Abs);
        return actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max() / scale;
    }
}

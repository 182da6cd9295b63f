using System;
using FluentAssertions;
using Logits.TorchSharp.Tensors;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>The held-Scalar AdamW against a float64 reference of the AdamW update, and its validation.</summary>
public sealed class HeldScalarAdamWTests
{
    /// <summary>AdamW on host doubles: decoupled decay, bias-corrected moments, per-parameter step count.</summary>
    private static double[] ReferenceAdamW(double[] theta, double[][] gradients, double lr, double beta1, double beta2, double eps, double decay)
    {
        var p = (double[])theta.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= gradients.Length; t++)
        {
            var g = gradients[t - 1];
            for (int i = 0; i < p.Length; i++)
            {
                p[i] *= 1 - (lr * decay);
                m[i] = (beta1 * m[i]) + ((1 - beta1) * g[i]);
                v[i] = (beta2 * v[i]) + ((1 - beta2) * g[i] * g[i]);
                double denominator = (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t))) + eps;
                p[i] -= lr / (1 - Math.Pow(beta1, t)) * m[i] / denominator;
            }
        }

        return p;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Three_steps_match_the_float64_AdamW_reference(double decay)
    {
        double[] theta = { 0.5, -1.25, 2.0, 0 };
        double[][] gradients = { new[] { 0.1, -0.2, 0.3, 0 }, new[] { -0.4, 0.05, 0.3, 1e-3 }, new[] { 0.2, 0.2, -0.6, -2 } };
        var expected = ReferenceAdamW(theta, gradients, lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, decay);

        using var parameter = new Parameter(tensor(theta));
        using var optimizer = new HeldScalarAdamW(new[] { parameter }, 0.05, weightDecay: decay);
        foreach (var g in gradients)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            // d(θ·g)/dθ = g: the loss's gradient is exactly the scripted one.
            parameter.dot(tensor(g)).backward();
            optimizer.Step();
        }

        parameter.detach().data<double>().ToArray().Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(b)));
    }

    [Fact]
    public void A_parameter_without_gradient_is_left_alone()
    {
        using var used = new Parameter(tensor(new double[] { 1, 2 }));
        using var unused = new Parameter(tensor(new double[] { 3, 4 }));
        using var optimizer = new HeldScalarAdamW(new[] { used, unused }, 0.1, weightDecay: 0.5);
        using (NewDisposeScope())
        {
            used.sum().backward();
            optimizer.Step();
        }

        unused.detach().data<double>().ToArray().Should().Equal(3, 4);
        used.detach().data<double>().ToArray().Should().NotEqual(new double[] { 1, 2 });
    }

    [Theory]
    [InlineData(0, 0.9, 0.999, 1e-8, 0, "learningRate")]
    [InlineData(double.NaN, 0.9, 0.999, 1e-8, 0, "learningRate")]
    [InlineData(1e-3, 1, 0.999, 1e-8, 0, "beta1")]
    [InlineData(1e-3, 0.9, -0.1, 1e-8, 0, "beta2")]
    [InlineData(1e-3, 0.9, 0.999, 0, 0, "epsilon")]
    [InlineData(1e-3, 0.9, 0.999, 1e-8, double.NaN, "weightDecay")]
    public void Invalid_hyper_parameters_throw_naming_them(double lr, double beta1, double beta2, double eps, double decay, string name)
    {
        using var p = new Parameter(zeros(2));
        var create = () => new HeldScalarAdamW(new[] { p }, lr, beta1, beta2, eps, decay);
        create.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }
}

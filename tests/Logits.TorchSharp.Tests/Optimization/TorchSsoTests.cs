using System;
using System.Linq;
using FluentAssertions;
using Logits.Optimization;
using Logits.TorchSharp.Optimization;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Optimization;

/// <summary>Target-based surrogates and SSO on torch: the worked vectors, equivalence with the CPU forms, autograd inner loops, no leaked tensors, invalid input.</summary>
public sealed class TorchSsoTests
{
    private static readonly double[] X = { 1, 0, 0, 1, 1, 1 };

    [Fact]
    public void Squared_error_vectors()
    {
        using var scope = NewDisposeScope();
        var x = tensor(X, 3, 2);
        var w = zeros(2, 1, ScalarType.Float64);
        var (h, g) = TorchTargetLoss.SquaredError(x.matmul(w), tensor(new double[] { 1, 2, 2 }, 3, 1));
        h.item<double>().Should().BeApproximately(4.5, 1e-15);
        using var surrogate = new TorchTargetSurrogate(x.matmul(w), g, 1, h.item<double>());
        Values(surrogate.TargetStep()).Should().Equal(1, 2, 2);
        surrogate.IsMajorizer(LossSmoothness.SquaredError).Should().BeTrue();
        Near(Values(TorchSso.LinearStep(w, x, g, 1, SsoInnerSolver.Exact)), new[] { 2.0 / 3, 5.0 / 3 }, 1e-12);
        Near(Values(TorchSso.LinearStep(w, x, g, 0.5, SsoInnerSolver.Exact)), new[] { 1.0 / 3, 5.0 / 6 }, 1e-12);
        Near(Values(TorchSso.LinearStep(w, x, g, 1, SsoInnerSolver.GradientDescent(0.1))), new[] { 0.3, 0.4 }, 1e-15);
        Near(Values(TorchSso.LinearStep(w, x, g, 1, SsoInnerSolver.GradientDescent(0.3, 200))), new[] { 2.0 / 3, 5.0 / 3 }, 1e-9);
        Near(Values(TorchSso.LinearStep(w, x, g, 1, SsoInnerSolver.Armijo(200))), new[] { 2.0 / 3, 5.0 / 3 }, 1e-6);
    }

    [Fact]
    public void Binary_logistic_vectors()
    {
        using var scope = NewDisposeScope();
        var x = tensor(X, 3, 2);
        var w = tensor(new[] { 0.3, -0.2 }, 2, 1);
        var labels = tensor(new long[] { 1, -1, 1 });
        var z = x.matmul(w);
        var (h, g) = TorchTargetLoss.BinaryLogistic(z, labels);
        h.item<double>().Should().BeApproximately(1.796891, 1e-6);
        Near(Values(g), new[] { -0.425557, 0.450166, -0.475021 }, 1e-6);
        using var surrogate = new TorchTargetSurrogate(z, g, 4, h.item<double>());
        Near(Values(surrogate.TargetStep()), new[] { 2.002230, -2.000664, 2.000083 }, 1e-6);
        var next = TorchSso.LinearStep(w, x, g, 4, SsoInnerSolver.Exact);
        Near(Values(next), new[] { 2.668402, -1.334492 }, 1e-6);
        TorchTargetLoss.BinaryLogistic(x.matmul(next), labels).Loss.item<double>().Should().BeApproximately(0.534626, 1e-6);
        var probe = tensor(new[] { 1.0, 1 }, 2, 1);
        surrogate.Value(x.matmul(probe)).item<double>().Should().BeApproximately(1.829160, 1e-6);
        using var loose = new TorchTargetSurrogate(z, g, 40, h.item<double>());
        loose.Value(x.matmul(probe)).item<double>().Should().BeApproximately(1.205910, 1e-6);
        loose.IsMajorizer(LossSmoothness.BinaryLogistic).Should().BeFalse();
    }

    [Fact]
    public void Softmax_cross_entropy_vectors()
    {
        using var scope = NewDisposeScope();
        var x = tensor(X, 3, 2);
        var w = zeros(2, 3, ScalarType.Float64);
        var labels = tensor(new long[] { 0, 1, 2 });
        var (h, g) = TorchTargetLoss.SoftmaxCrossEntropy(x.matmul(w), labels);
        h.item<double>().Should().BeApproximately(3.295837, 1e-6);
        var exact = TorchSso.LinearStep(w, x, g, 2, SsoInnerSolver.Exact);
        Near(Values(exact), new[] { 0.888889, -1.111111, 0.222222, -1.111111, 0.888889, 0.222222 }, 1e-6);
        TorchTargetLoss.SoftmaxCrossEntropy(x.matmul(exact), labels).Loss.item<double>().Should().BeApproximately(1.706513, 1e-6);
        using var surrogate = new TorchTargetSurrogate(x.matmul(w), g, 2, h.item<double>());
        surrogate.Value(x.matmul(exact)).item<double>().Should().BeApproximately(2.184726, 1e-6);
        Near(Values(TorchSso.LinearStep(w, x, g, 2, SsoInnerSolver.GradientDescent(0.5))), new[] { 0.166667, -0.333333, 0.166667, -0.333333, 0.166667, 0.166667 }, 1e-6);
    }

    [Fact]
    public void Agrees_with_the_cpu_forms_on_random_problems()
    {
        var rng = new Random(21);
        for (int trial = 0; trial < 20; trial++)
        {
            using var scope = NewDisposeScope();
            int b = rng.Next(1, 30), d = rng.Next(1, 8), k = rng.Next(1, 5);
            bool deficient = trial % 4 == 0 && d > 1;
            var features = Enumerable.Range(0, b * d).Select(_ => (rng.NextDouble() * 4) - 2).ToArray();
            if (deficient)
            {
                for (int r = 0; r < b; r++)
                {
                    features[(r * d) + d - 1] = features[r * d]; // a duplicated column
                }
            }

            var weights = Enumerable.Range(0, d * k).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
            var labels = Enumerable.Range(0, b).Select(_ => rng.Next(k)).ToArray();
            var reduction = trial % 2 == 0 ? SurrogateReduction.Sum : SurrogateReduction.Mean;

            var cpuModel = new LinearTargetModel(features, d, k);
            var rows = Enumerable.Range(0, b).ToArray();
            var z = new double[b * k];
            cpuModel.Targets(weights, rows, z);
            var g = new double[b * k];
            double h = TargetLoss.SoftmaxCrossEntropy(z, labels, k, reduction, g);

            var tx = tensor(features, b, d);
            var tw = tensor(weights, d, k);
            var (th, tg) = TorchTargetLoss.SoftmaxCrossEntropy(tx.matmul(tw), tensor(labels.Select(v => (long)v).ToArray()), reduction);
            th.item<double>().Should().BeApproximately(h, 1e-12 * Math.Max(1, h));
            Near(Values(tg), g, 1e-12);

            double eta = (reduction == SurrogateReduction.Mean ? b : 1) / LossSmoothness.SoftmaxCrossEntropy;
            foreach (var inner in new[] { SsoInnerSolver.Exact, SsoInnerSolver.GradientDescent(0.05, 7), SsoInnerSolver.Armijo(5) })
            {
                var cpu = new double[d * k];
                SsoLinear.Step(weights, features, g, k, eta, inner, cpu);
                var torchResult = Values(TorchSso.LinearStep(tw, tx, tg, eta, inner));
                Near(torchResult, cpu, 1e-9 * Math.Max(1, cpu.Max(Math.Abs)));
            }

            var y = Enumerable.Range(0, b * k).Select(_ => rng.NextDouble()).ToArray();
            double sq = TargetLoss.SquaredError(z, y, k, reduction, g);
            var (tsq, tsg) = TorchTargetLoss.SquaredError(tx.matmul(tw), tensor(y, b, k), reduction);
            tsq.item<double>().Should().BeApproximately(sq, 1e-12 * Math.Max(1, sq));
            Near(Values(tsg), g, 1e-12);

            var signs = labels.Select(v => v % 2 == 0 ? 1 : -1).ToArray();
            var zb = z.Take(b).ToArray();
            var gb = new double[b];
            double bl = TargetLoss.BinaryLogistic(zb, signs, reduction, gb);
            var (tbl, tbg) = TorchTargetLoss.BinaryLogistic(tensor(zb), tensor(signs), reduction);
            tbl.item<double>().Should().BeApproximately(bl, 1e-12 * Math.Max(1, bl));
            Near(Values(tbg), gb, 1e-15);
        }
    }

    [Fact]
    public void Autograd_inner_loop_matches_the_closed_form_and_descends()
    {
        using var scope = NewDisposeScope();
        var x = tensor(X, 3, 2);
        var labels = tensor(new long[] { 1, -1, 1 });
        var w0 = tensor(new[] { 0.3, -0.2 }, 2, 1);
        var (h, g) = TorchTargetLoss.BinaryLogistic(x.matmul(w0), labels);
        using var surrogate = new TorchTargetSurrogate(x.matmul(w0), g, 4, h.item<double>());
        foreach (var inner in new[] { SsoInnerSolver.GradientDescent(0.2, 15), SsoInnerSolver.Armijo(15) })
        {
            var parameter = w0.clone().requires_grad_(true);
            int moved = TorchSso.Minimize(() => x.matmul(parameter), new[] { parameter }, surrogate, inner);
            moved.Should().BePositive();
            var closed = TorchSso.LinearStep(w0, x, g, 4, inner);
            Near(Values(parameter.detach()), Values(closed), 1e-12);
            double after = TorchTargetLoss.BinaryLogistic(x.matmul(parameter.detach()), labels).Loss.item<double>();
            after.Should().BeLessThan(h.item<double>(), "η = 1/L: the surrogate majorises, so decreasing it decreases the loss");
        }

        // A non-linear map (z = tanh(X·θ)) through autograd: Armijo never increases the surrogate.
        var theta = tensor(new[] { 0.1, 0.4 }, 2, 1).requires_grad_(true);
        Tensor Map() => x.matmul(theta).tanh();
        var (h2, g2) = TorchTargetLoss.SquaredError(Map().detach(), tensor(new[] { 0.5, -0.5, 0.2 }, 3, 1));
        using var s2 = new TorchTargetSurrogate(Map().detach(), g2, 1, h2.item<double>());
        TorchSso.Minimize(Map, new[] { theta }, s2, SsoInnerSolver.Armijo(10)).Should().BePositive();
        using (no_grad())
        {
            s2.Value(Map()).item<double>().Should().BeLessThan(h2.item<double>());
        }
    }

    [Fact]
    public void Leaves_no_live_tensors()
    {
        using var x = tensor(X, 3, 2);
        using var w = zeros(2, 3, ScalarType.Float64);
        using var labels = tensor(new long[] { 0, 1, 2 });
        using var wrongShape = zeros(2, 2, ScalarType.Float64);
        void Run()
        {
            using var z0 = x.matmul(w);
            var (h, g) = TorchTargetLoss.SoftmaxCrossEntropy(z0, labels);
            using (h)
            using (g)
            using (var z = x.matmul(w))
            using (var surrogate = new TorchTargetSurrogate(z, g, 2, h.item<double>()))
            {
                foreach (var inner in new[] { SsoInnerSolver.Exact, SsoInnerSolver.GradientDescent(0.1, 3), SsoInnerSolver.Armijo(3) })
                {
                    TorchSso.LinearStep(w, x, g, 2, inner).Dispose();
                }

                surrogate.Value(z).Dispose();
                surrogate.Gradient(z).Dispose();
                surrogate.TargetStep().Dispose();
            }

            Assert.Throws<ArgumentException>(() => TorchTargetLoss.SquaredError(x, wrongShape));
            Assert.Throws<ArgumentException>(() => TorchSso.LinearStep(w, x, wrongShape, 2, SsoInnerSolver.Exact));
        }

        Run();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            Run();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
    }

    [Fact]
    public void Invalid_input()
    {
        using var scope = NewDisposeScope();
        var z = tensor(new[] { 1.0, 2 });
        FluentActions.Invoking(() => new TorchTargetSurrogate(z, z, 0, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("eta");
        FluentActions.Invoking(() => new TorchTargetSurrogate(z, z, 1, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lossAtTargets");
        FluentActions.Invoking(() => new TorchTargetSurrogate(z, tensor(new[] { 1.0 }), 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targetGradient");
        FluentActions.Invoking(() => new TorchTargetSurrogate(tensor(new[] { 1.0, double.NaN }), z, 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => new TorchTargetSurrogate(tensor(new long[] { 1, 2 }), z, 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => TorchTargetLoss.BinaryLogistic(z, tensor(new long[] { 1, 0 }))).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchTargetLoss.SoftmaxCrossEntropy(tensor(new[] { 1.0, 2 }, 1, 2), tensor(new long[] { 2 }))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
        FluentActions.Invoking(() => TorchTargetLoss.SquaredError(z, z, (SurrogateReduction)5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("reduction");
        FluentActions.Invoking(() => TorchSso.LinearStep(zeros(2, 1, ScalarType.Float64), zeros(3, 3, ScalarType.Float64), zeros(3, 1, ScalarType.Float64), 1, SsoInnerSolver.Exact)).Should().Throw<ArgumentException>().WithParameterName("batchFeatures");
        FluentActions.Invoking(() => TorchSso.LinearStep(zeros(2, 1, ScalarType.Float64), zeros(3, 2, ScalarType.Float64), zeros(3, 1, ScalarType.Float64), -1, SsoInnerSolver.Exact)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("eta");
        using var surrogate = new TorchTargetSurrogate(z, z, 1, 0);
        FluentActions.Invoking(() => TorchSso.Minimize(() => z, new[] { z }, surrogate, SsoInnerSolver.GradientDescent(0.1))).Should().Throw<ArgumentException>().WithParameterName("parameters");
        FluentActions.Invoking(() => TorchSso.Minimize(() => z, new[] { z.clone().requires_grad_(true) }, surrogate, SsoInnerSolver.Exact)).Should().Throw<ArgumentException>().WithParameterName("inner");
        FluentActions.Invoking(() => surrogate.Value(tensor(new[] { 1.0 }))).Should().Throw<ArgumentException>().WithParameterName("targets");
    }

    private static double[] Values(Tensor t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static void Near(double[] actual, double[] expected, double tolerance)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], tolerance, $"index {i}");
        }
    }
}

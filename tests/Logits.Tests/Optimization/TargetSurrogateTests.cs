using System;
using System.Linq;
using FluentAssertions;
using Logits.Optimization;
using Xunit;

namespace Logits.Tests.Optimization;

/// <summary>Target-based surrogates and SSO (Lavington et al., ICML 2023): worked vectors for the squared, logistic and softmax losses, the majoriser on both sides of η = 1/L, inner solvers, the least-squares core against a reference, invalid input.</summary>
public sealed class TargetSurrogateTests
{
    private static readonly double[] X = { 1, 0, 0, 1, 1, 1 };
    private static readonly int[] All = { 0, 1, 2 };
    private static readonly LinearTargetModel Linear1 = new(X, 2, 1);
    private static readonly LinearTargetModel Linear3 = new(X, 2, 3);

    [Fact]
    public void Squared_error_vectors()
    {
        var y = new double[] { 1, 2, 2 };
        var theta = new double[2];
        var z = Targets(Linear1, theta);
        var g = new double[3];
        double h = TargetLoss.SquaredError(z, y, 1, SurrogateReduction.Sum, g);
        h.Should().BeApproximately(4.5, 1e-15);

        var surrogate = new TargetSurrogate(z, g, 1, 1, h);
        var half = new double[3];
        surrogate.TargetStep(half);
        half.Should().Equal(1, 2, 2);
        surrogate.IsMajorizer(LossSmoothness.SquaredError).Should().BeTrue();
        var exact = Step(Linear1, SquaredOracle(y), theta, 1, SsoInnerSolver.Exact);
        Near(exact, new[] { 2.0 / 3, 5.0 / 3 }, 1e-12);
        SquaredLoss(exact, y).Should().BeApproximately(1.0 / 6, 1e-12);

        var halfEta = Step(Linear1, SquaredOracle(y), theta, 0.5, SsoInnerSolver.Exact);
        new TargetSurrogate(z, g, 1, 0.5, h).TargetStep(half);
        half.Should().Equal(0.5, 1, 1);
        Near(halfEta, new[] { 1.0 / 3, 5.0 / 6 }, 1e-12);
        SquaredLoss(halfEta, y).Should().BeApproximately(1.25, 1e-12);

        Near(Step(Linear1, SquaredOracle(y), theta, 1, SsoInnerSolver.GradientDescent(0.1, 1)), new[] { 0.3, 0.4 }, 1e-15);
        Near(Step(Linear1, SquaredOracle(y), theta, 1, SsoInnerSolver.GradientDescent(0.3, 200)), new[] { 2.0 / 3, 5.0 / 3 }, 1e-9);
        Near(Step(Linear1, SquaredOracle(y), theta, 1, SsoInnerSolver.Armijo(200)), new[] { 2.0 / 3, 5.0 / 3 }, 1e-6);

        // With η = 1/L and a quadratic h the surrogate is the loss itself.
        var rng = new Random(1);
        for (int i = 0; i < 1000; i++)
        {
            var t = new[] { (rng.NextDouble() * 20) - 10, (rng.NextDouble() * 20) - 10 };
            double f = SquaredLoss(t, y);
            surrogate.Value(Targets(Linear1, t)).Should().BeApproximately(f, 1e-12 * Math.Max(1, f));
        }
    }

    [Fact]
    public void Binary_logistic_vectors_and_the_majoriser_on_both_sides()
    {
        var labels = new[] { 1, -1, 1 };
        var theta = new[] { 0.3, -0.2 };
        var z = Targets(Linear1, theta);
        Near(z, new[] { 0.3, -0.2, 0.1 }, 1e-15);
        var g = new double[3];
        double h = TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Sum, g);
        Near(g, new[] { -0.425557, 0.450166, -0.475021 }, 1e-6);
        h.Should().BeApproximately(1.796891, 1e-6);

        var surrogate = new TargetSurrogate(z, g, 1, 4, h);
        surrogate.IsMajorizer(LossSmoothness.BinaryLogistic).Should().BeTrue();
        var half = new double[3];
        surrogate.TargetStep(half);
        Near(half, new[] { 2.002230, -2.000664, 2.000083 }, 1e-6);
        var next = Step(Linear1, LogisticOracle(labels), theta, 4, SsoInnerSolver.Exact);
        Near(next, new[] { 2.668402, -1.334492 }, 1e-6);
        LogisticLoss(next, labels).Should().BeApproximately(0.534626, 1e-6);

        var probe = new[] { 1.0, 1 };
        surrogate.Value(Targets(Linear1, probe)).Should().BeApproximately(1.829160, 1e-6);
        LogisticLoss(probe, labels).Should().BeApproximately(1.753451, 1e-6);
        var loose = new TargetSurrogate(z, g, 1, 40, h);
        loose.IsMajorizer(LossSmoothness.BinaryLogistic).Should().BeFalse();
        loose.Value(Targets(Linear1, probe)).Should().BeApproximately(1.205910, 1e-6);

        var rng = new Random(4);
        double worst = double.PositiveInfinity;
        int violations = 0;
        for (int i = 0; i < 10_000; i++)
        {
            var t = new[] { (rng.NextDouble() * 10) - 5, (rng.NextDouble() * 10) - 5 };
            double f = LogisticLoss(t, labels);
            worst = Math.Min(worst, surrogate.Value(Targets(Linear1, t)) - f);
            violations += loose.Value(Targets(Linear1, t)) - f < 0 ? 1 : 0;
        }

        worst.Should().BeGreaterThanOrEqualTo(-1e-12, "η = 1/L majorises");
        violations.Should().BePositive("η = 10/L does not");
    }

    [Fact]
    public void Softmax_cross_entropy_vectors()
    {
        var labels = new[] { 0, 1, 2 };
        var w = new double[6];
        var z = Targets(Linear3, w);
        var g = new double[9];
        double h = TargetLoss.SoftmaxCrossEntropy(z, labels, 3, SurrogateReduction.Sum, g);
        h.Should().BeApproximately(3.295837, 1e-6);
        for (int i = 0; i < 9; i++)
        {
            g[i].Should().BeApproximately((1.0 / 3) - (i % 4 == 0 ? 1 : 0), 1e-15);
        }

        var exact = Step(Linear3, CrossEntropyOracle(labels), w, 2, SsoInnerSolver.Exact);
        Near(exact, new[] { 0.888889, -1.111111, 0.222222, -1.111111, 0.888889, 0.222222 }, 1e-6);
        double after = TargetLoss.SoftmaxCrossEntropy(Targets(Linear3, exact), labels, 3);
        after.Should().BeApproximately(1.706513, 1e-6);
        new TargetSurrogate(z, g, 3, 2, h).Value(Targets(Linear3, exact)).Should().BeApproximately(2.184726, 1e-6);

        var one = Step(Linear3, CrossEntropyOracle(labels), w, 2, SsoInnerSolver.GradientDescent(0.5, 1));
        Near(one, new[] { 0.166667, -0.333333, 0.166667, -0.333333, 0.166667, 0.166667 }, 1e-6);

        var direct = new double[6];
        SsoLinear.Step(w, X, g, 3, 2, SsoInnerSolver.Exact, direct);
        direct.Should().Equal(exact);
    }

    [Fact]
    public void Losses_match_float64_references_and_mean_divides_by_rows()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = rng.Next(1, 30), k = rng.Next(1, 6);
            var z = Enumerable.Range(0, n * k).Select(_ => (rng.NextDouble() * 40) - 20).ToArray();
            var y = Enumerable.Range(0, n * k).Select(_ => rng.NextDouble()).ToArray();
            var labels = Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
            var g = new double[n * k];
            var gm = new double[n * k];
            double sq = TargetLoss.SquaredError(z, y, k, SurrogateReduction.Sum, g);
            TargetLoss.SquaredError(z, y, k, SurrogateReduction.Mean, gm).Should().BeApproximately(sq / n, 1e-12 * sq);
            sq.Should().BeApproximately(0.5 * z.Zip(y, (a, b) => (a - b) * (a - b)).Sum(), 1e-12 * sq);
            for (int i = 0; i < g.Length; i++)
            {
                gm[i].Should().BeApproximately(g[i] / n, 1e-15);
            }

            double ce = TargetLoss.SoftmaxCrossEntropy(z, labels, k, SurrogateReduction.Sum, g);
            double reference = 0;
            for (int r = 0; r < n; r++)
            {
                var row = z.Skip(r * k).Take(k).ToArray();
                double lse = row.Max() + Math.Log(row.Sum(v => Math.Exp(v - row.Max())));
                reference += lse - row[labels[r]];
                for (int c = 0; c < k; c++)
                {
                    g[(r * k) + c].Should().BeApproximately(Math.Exp(row[c] - lse) - (c == labels[r] ? 1 : 0), 1e-12);
                }
            }

            ce.Should().BeApproximately(reference, 1e-10 * Math.Max(1, reference));

            var pm = labels.Select(v => v % 2 == 0 ? 1 : -1).ToArray();
            var zb = z.Take(n).ToArray();
            var gb = new double[n];
            double bl = TargetLoss.BinaryLogistic(zb, pm, SurrogateReduction.Mean, gb);
            bl.Should().BeApproximately(zb.Zip(pm, (a, b) => Math.Log(1 + Math.Exp(-a * b))).Average(), 1e-12);
            for (int i = 0; i < n; i++)
            {
                gb[i].Should().BeApproximately(-pm[i] / (1 + Math.Exp(pm[i] * zb[i])) / n, 1e-15);
            }
        }

        // No overflow at extreme logits.
        TargetLoss.BinaryLogistic(new[] { -1000.0 }, new[] { 1 }).Should().BeApproximately(1000, 1e-9);
        TargetLoss.SoftmaxCrossEntropy(new[] { 1000.0, -1000 }, new[] { 1 }, 2).Should().BeApproximately(2000, 1e-9);
    }

    [Fact]
    public void Exact_step_is_the_minimum_norm_solution_when_features_are_rank_deficient()
    {
        // X = a·bᵀ, a = (1, 2, 3), b = (1, 1): X⁺ = b·aᵀ/(‖a‖²·‖b‖²).
        var x = new double[] { 1, 1, 2, 2, 3, 3 };
        var g = new double[] { 0.5, -1, 2 };
        var next = new double[2];
        SsoLinear.Step(new double[2], x, g, 1, 1, SsoInnerSolver.Exact, next);
        double expected = -(0.5 - 2 + 6) / 28.0;
        Near(next, new[] { expected, expected }, 1e-14);

        // The SVD-based solve matches the normal equations on random full-rank problems.
        var rng = new Random(8);
        for (int trial = 0; trial < 30; trial++)
        {
            int d = rng.Next(1, 8), b = rng.Next(d, 25), k = rng.Next(1, 4);
            var a = Enumerable.Range(0, b * d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
            var rhs = Enumerable.Range(0, b * k).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
            var actual = new double[d * k];
            LeastSquares.MinimumNormSolve(a, b, d, rhs, k, actual);
            var reference = NormalEquations(a, b, d, rhs, k);
            for (int i = 0; i < actual.Length; i++)
            {
                actual[i].Should().BeApproximately(reference[i], 1e-8 * Math.Max(1, Math.Abs(reference[i])), $"trial {trial}");
            }

            double sigma = LeastSquares.LargestSingularValue(a, b, d);
            (sigma * sigma).Should().BeApproximately(PowerIteration(a, b, d), 1e-8 * sigma * sigma);
        }
    }

    [Fact]
    public void Full_batch_sso_descends_and_more_inner_steps_need_fewer_outer_iterations()
    {
        var rng = new Random(2302);
        int n = 120, d = 8;
        var features = new double[n * d];
        var truth = Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            double dot = 0;
            for (int j = 0; j < d; j++)
            {
                features[(i * d) + j] = Normal(rng) * Math.Pow(10, 1.5 * j / (d - 1)); // ill-conditioned columns
                dot += features[(i * d) + j] * truth[j] / Math.Pow(10, 1.5 * j / (d - 1));
            }

            labels[i] = dot + Normal(rng) > 0 ? 1 : -1;
        }

        var model = new LinearTargetModel(features, d, 1);
        var rows = Enumerable.Range(0, n).ToArray();
        double eta = n / LossSmoothness.BinaryLogistic * 1; // mean reduction: L = 1/(4N)
        double lambda = model.LargestGramEigenvalue(rows);
        TargetLossOracle oracle = (r, z, g) => TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g);

        // The optimum, from many exact steps.
        var best = new double[d];
        var exact = new SsoOptimizer(eta, SsoInnerSolver.Exact);
        for (int t = 0; t < 400; t++)
        {
            exact.Step(model, oracle, rows, best);
        }

        double optimum = Loss(model, labels, best);
        var counts = new System.Collections.Generic.List<int>();
        foreach (int m in new[] { 1, 5, 20, 100 })
        {
            var sso = new SsoOptimizer(eta, SsoInnerSolver.GradientDescent(eta / lambda, m));
            var theta = new double[d];
            double last = Loss(model, labels, theta);
            int outer = 0;
            while (last - optimum > 1e-4 && outer < 2000)
            {
                var result = sso.Step(model, oracle, rows, theta);
                double now = Loss(model, labels, theta);
                now.Should().BeLessThanOrEqualTo(last + 1e-15, $"η ≤ 1/L gives monotone descent (m = {m}, t = {outer})");
                result.SurrogateValue.Should().BeGreaterThanOrEqualTo(now - 1e-12, "the surrogate majorises");
                last = now;
                outer++;
            }

            counts.Add(outer);
        }

        counts.Should().BeInDescendingOrder("more inner steps per expensive gradient never need more outer iterations");
        counts[^1].Should().BeLessThan(counts[0] / 4, $"outer iterations {string.Join(", ", counts)}: on ill-conditioned features many inner steps pay off");
        counts[^1].Should().BeLessThan(2000);

        // m = 1 is gradient descent with step α on the batch loss.
        var gd = new double[d];
        var sso1 = new double[d];
        var single = new SsoOptimizer(eta, SsoInnerSolver.GradientDescent(0.7, 1));
        for (int t = 0; t < 20; t++)
        {
            single.Step(model, oracle, rows, sso1);
            var z = Targets(model, gd);
            var g = new double[n];
            TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g);
            for (int j = 0; j < d; j++)
            {
                double gradient = 0;
                for (int i = 0; i < n; i++)
                {
                    gradient += features[(i * d) + j] * g[i];
                }

                gd[j] -= 0.7 * gradient;
            }
        }

        Near(sso1, gd, 1e-12);

        // Armijo never increases the surrogate either.
        var armijo = new SsoOptimizer(eta, SsoInnerSolver.Armijo(10));
        var ta = new double[d];
        double previousLoss = Loss(model, labels, ta);
        for (int t = 0; t < 30; t++)
        {
            var result = armijo.Step(model, oracle, rows, ta);
            result.SurrogateValue.Should().BeLessThanOrEqualTo(result.LossAtTargets);
            double now = Loss(model, labels, ta);
            now.Should().BeLessThanOrEqualTo(previousLoss + 1e-15);
            previousLoss = now;
        }
    }

    [Fact]
    public void Inner_solvers_work_through_any_target_map()
    {
        // z_i = exp(x_iᵀθ): one gradient step on the surrogate equals one gradient step on f = h∘z.
        var model = new ExpModel(X, 2);
        var y = new double[] { 1, 2, 2 };
        var theta = new[] { 0.1, -0.2 };
        var z = Targets(model, theta);
        var g = new double[3];
        TargetLoss.SquaredError(z, y, 1, SurrogateReduction.Sum, g);
        var expected = new double[2];
        model.BackpropagateTargets(theta, All, g, expected);
        var actual = (double[])theta.Clone();
        new SsoOptimizer(0.5, SsoInnerSolver.GradientDescent(0.05, 1)).Step(model, SquaredOracle(y), All, actual);
        Near(actual, new[] { theta[0] - (0.05 * expected[0]), theta[1] - (0.05 * expected[1]) }, 1e-15);

        var armijo = (double[])theta.Clone();
        var result = new SsoOptimizer(0.5, SsoInnerSolver.Armijo(20)).Step(model, SquaredOracle(y), All, armijo);
        result.InnerSteps.Should().BePositive();
        result.SurrogateValue.Should().BeLessThan(result.LossAtTargets);
        FluentActions.Invoking(() => new SsoOptimizer(0.5, SsoInnerSolver.Exact).Step(model, SquaredOracle(y), All, new double[2]))
            .Should().Throw<ArgumentException>().WithParameterName("model");
    }

    [Fact]
    public void Official_step_size_convention()
    {
        SsoConventions.FromOfficialStepSize(10, 25, SurrogateReduction.Mean).Should().Be(5);
        SsoConventions.FromOfficialStepSize(10, 25).Should().Be(0.2);
    }

    [Fact]
    public void Invalid_input()
    {
        var z = new double[] { 1, 2 };
        foreach (double eta in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => new TargetSurrogate(z, z, 1, eta, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("eta");
            FluentActions.Invoking(() => new SsoOptimizer(eta, SsoInnerSolver.Exact)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("eta");
            FluentActions.Invoking(() => SsoInnerSolver.GradientDescent(eta)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stepSize");
        }

        FluentActions.Invoking(() => new TargetSurrogate(z, new double[3], 1, 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targetGradient");
        FluentActions.Invoking(() => new TargetSurrogate(z, z, 3, 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => new TargetSurrogate(z, z, 0, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("width");
        FluentActions.Invoking(() => new TargetSurrogate(new[] { 1, double.NaN }, z, 1, 1, 0)).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => new TargetSurrogate(z, z, 1, 1, double.NaN)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("lossAtTargets");
        FluentActions.Invoking(() => new TargetSurrogate(z, z, 1, 1, 0).IsMajorizer(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("smoothness");
        FluentActions.Invoking(() => new TargetSurrogate(z, z, 1, 1, 0).Value(new double[3])).Should().Throw<ArgumentException>().WithParameterName("targets");
        FluentActions.Invoking(() => SsoInnerSolver.GradientDescent(0.1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("steps");
        FluentActions.Invoking(() => SsoInnerSolver.Armijo(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("steps");
        FluentActions.Invoking(() => SsoInnerSolver.Armijo(1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("initialStepSize");
        FluentActions.Invoking(() => SsoInnerSolver.Armijo(1, 1, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sufficientDecrease");
        FluentActions.Invoking(() => SsoInnerSolver.Armijo(1, 1, 0.5, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("backtrack");
        FluentActions.Invoking(() => SsoInnerSolver.Armijo(1, 1, 0.5, 0.9, 0.5)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("grow");
        FluentActions.Invoking(() => new SsoOptimizer(1, null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => TargetLoss.SquaredError(z, z, 1, (SurrogateReduction)7)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("reduction");
        FluentActions.Invoking(() => TargetLoss.SquaredError(z, new double[1], 1)).Should().Throw<ArgumentException>().WithParameterName("expected");
        FluentActions.Invoking(() => TargetLoss.BinaryLogistic(z, new[] { 1, 0 })).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => TargetLoss.SoftmaxCrossEntropy(z, new[] { 2 }, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
        FluentActions.Invoking(() => TargetLoss.SoftmaxCrossEntropy(z, new[] { 0 }, 2, SurrogateReduction.Sum, new double[1])).Should().Throw<ArgumentException>().WithParameterName("gradient");
        FluentActions.Invoking(() => SsoLinear.Step(new double[2], new double[5], new double[3], 1, 1, SsoInnerSolver.Exact, new double[2])).Should().Throw<ArgumentException>().WithParameterName("batchFeatures");
        FluentActions.Invoking(() => SsoConventions.FromOfficialStepSize(1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        FluentActions.Invoking(() => new LinearTargetModel(new double[3], 2, 1)).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => Linear1.Targets(new double[2], new[] { 3 }, new double[1])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rows");
        FluentActions.Invoking(() => new SsoOptimizer(1, SsoInnerSolver.Exact).Step(Linear1, SquaredOracle(new double[3]), All, new double[3])).Should().Throw<ArgumentException>().WithParameterName("parameters");
        FluentActions.Invoking(() => new SsoOptimizer(1, SsoInnerSolver.Exact).Step(Linear1, (r, t, g) => double.NaN, All, new double[2])).Should().Throw<ArgumentException>();
    }

    private static TargetLossOracle SquaredOracle(double[] y) => (rows, z, g) => TargetLoss.SquaredError(z, rows.ToArray().Select(r => y[r]).ToArray(), 1, SurrogateReduction.Sum, g);

    private static TargetLossOracle LogisticOracle(int[] labels) => (rows, z, g) => TargetLoss.BinaryLogistic(z, rows.ToArray().Select(r => labels[r]).ToArray(), SurrogateReduction.Sum, g);

    private static TargetLossOracle CrossEntropyOracle(int[] labels) => (rows, z, g) => TargetLoss.SoftmaxCrossEntropy(z, rows.ToArray().Select(r => labels[r]).ToArray(), 3, SurrogateReduction.Sum, g);

    private static double[] Step(LinearTargetModel model, TargetLossOracle oracle, double[] theta, double eta, SsoInnerSolver inner)
    {
        var next = (double[])theta.Clone();
        new SsoOptimizer(eta, inner).Step(model, oracle, Enumerable.Range(0, model.Rows).ToArray(), next);
        return next;
    }

    private static double[] Targets(ITargetModel model, double[] theta)
    {
        var z = new double[model.Rows * model.Width];
        model.Targets(theta, Enumerable.Range(0, model.Rows).ToArray(), z);
        return z;
    }

    private static double SquaredLoss(double[] theta, double[] y) => TargetLoss.SquaredError(Targets(Linear1, theta), y, 1);

    private static double LogisticLoss(double[] theta, int[] labels) => TargetLoss.BinaryLogistic(Targets(Linear1, theta), labels);

    private static double Loss(LinearTargetModel model, int[] labels, double[] theta) => TargetLoss.BinaryLogistic(Targets(model, theta), labels, SurrogateReduction.Mean);

    private static void Near(double[] actual, double[] expected, double tolerance)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], tolerance, $"index {i}");
        }
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>(AᵀA)⁻¹AᵀB by Gaussian elimination with partial pivoting: the textbook reference for full column rank.</summary>
    private static double[] NormalEquations(double[] a, int rows, int cols, double[] b, int width)
    {
        var m = new double[cols, cols + width];
        for (int i = 0; i < cols; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                for (int r = 0; r < rows; r++)
                {
                    m[i, j] += a[(r * cols) + i] * a[(r * cols) + j];
                }
            }

            for (int k = 0; k < width; k++)
            {
                for (int r = 0; r < rows; r++)
                {
                    m[i, cols + k] += a[(r * cols) + i] * b[(r * width) + k];
                }
            }
        }

        for (int p = 0; p < cols; p++)
        {
            int pivot = p;
            for (int i = p + 1; i < cols; i++)
            {
                if (Math.Abs(m[i, p]) > Math.Abs(m[pivot, p]))
                {
                    pivot = i;
                }
            }

            for (int j = 0; j < cols + width; j++)
            {
                (m[p, j], m[pivot, j]) = (m[pivot, j], m[p, j]);
            }

            for (int i = 0; i < cols; i++)
            {
                if (i != p)
                {
                    double f = m[i, p] / m[p, p];
                    for (int j = 0; j < cols + width; j++)
                    {
                        m[i, j] -= f * m[p, j];
                    }
                }
            }
        }

        var x = new double[cols * width];
        for (int i = 0; i < cols; i++)
        {
            for (int k = 0; k < width; k++)
            {
                x[(i * width) + k] = m[i, cols + k] / m[i, i];
            }
        }

        return x;
    }

    private static double PowerIteration(double[] a, int rows, int cols)
    {
        var v = Enumerable.Repeat(1.0, cols).ToArray();
        double lambda = 0;
        for (int it = 0; it < 5000; it++)
        {
            var av = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < cols; j++)
                {
                    av[r] += a[(r * cols) + j] * v[j];
                }
            }

            var w = new double[cols];
            for (int j = 0; j < cols; j++)
            {
                for (int r = 0; r < rows; r++)
                {
                    w[j] += a[(r * cols) + j] * av[r];
                }
            }

            double norm = Math.Sqrt(w.Sum(x => x * x));
            lambda = norm / Math.Sqrt(v.Sum(x => x * x));
            v = w.Select(x => x / norm).ToArray();
        }

        return lambda;
    }

    /// <summary>A non-linear target map, z_i = exp(x_iᵀθ), K = 1.</summary>
    private sealed class ExpModel : ITargetModel
    {
        private readonly double[] _x;

        public ExpModel(double[] x, int d)
        {
            _x = x;
            ParameterCount = d;
            Rows = x.Length / d;
        }

        public int ParameterCount { get; }

        public int Width => 1;

        public int Rows { get; }

        public void Targets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, Span<double> destination)
        {
            for (int r = 0; r < rows.Length; r++)
            {
                destination[r] = Math.Exp(Dot(parameters, rows[r]));
            }
        }

        public void BackpropagateTargets(ReadOnlySpan<double> parameters, ReadOnlySpan<int> rows, ReadOnlySpan<double> targetGradient, Span<double> destination)
        {
            destination.Clear();
            for (int r = 0; r < rows.Length; r++)
            {
                double scale = Math.Exp(Dot(parameters, rows[r])) * targetGradient[r];
                for (int j = 0; j < ParameterCount; j++)
                {
                    destination[j] += scale * _x[(rows[r] * ParameterCount) + j];
                }
            }
        }

        private double Dot(ReadOnlySpan<double> parameters, int row)
        {
            double total = 0;
            for (int j = 0; j < ParameterCount; j++)
            {
                total += parameters[j] * _x[(row * ParameterCount) + j];
            }

            return total;
        }
    }
}

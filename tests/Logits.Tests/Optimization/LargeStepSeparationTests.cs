using System;
using System.Linq;
using FluentAssertions;
using Logits.Optimization;
using Xunit;

namespace Logits.Tests.Optimization;

/// <summary>LR+GD with large steps, normalised LR+GD and the perceptrons (Tyurin, arXiv 2412.08424): worked vectors, the paper's Table 1, tracking, a float64 reference, invalid input.</summary>
public sealed class LargeStepSeparationTests
{
    // Theorem 4.1's dataset: a₁ = (1, −1), y = +1; a₂ = (−1, −4), y = −1.
    private static readonly BinaryClassificationData TwoPoints = new(new double[] { 1, -1, -1, -4 }, new[] { 1, -1 });

    [Theory]
    [InlineData(1, 0.427845, 0.795744, 0.527536, 0.310632)]
    [InlineData(10, 1.289445, 0.962071, 0.287929, 0.000590)]
    [InlineData(100, 12.500000, 1, 0.25, 0)]
    public void Gradient_descent_first_two_steps(double gamma, double loss1, double theta2x, double theta2y, double loss2)
    {
        var method = new LargeStepSeparation(SeparationMethod.GradientDescent, gamma);
        var theta = new double[2];
        method.Step(TwoPoints, theta, 0, theta);
        (theta[0] / gamma).Should().BeApproximately(0.5, 1e-12);
        (theta[1] / gamma).Should().BeApproximately(0.75, 1e-12);
        TwoPoints.Loss(theta).Should().BeApproximately(loss1, 1e-6);
        double closedForm = 0.5 * (Math.Log(1 + Math.Exp(gamma / 4)) + Math.Log(1 + Math.Exp(-7 * gamma / 2)));
        TwoPoints.Loss(theta).Should().BeApproximately(closedForm, 1e-12 * closedForm);
        method.Step(TwoPoints, theta, 1, theta);
        (theta[0] / gamma).Should().BeApproximately(theta2x, 1e-6);
        (theta[1] / gamma).Should().BeApproximately(theta2y, 1e-6);
        TwoPoints.Loss(theta).Should().BeApproximately(loss2, 1e-6);
    }

    [Fact]
    public void High_loss_then_immediate_separation()
    {
        var small = new LargeStepSeparation(SeparationMethod.GradientDescent, 1);
        var large = new LargeStepSeparation(SeparationMethod.GradientDescent, 100);
        var a = new double[2];
        var b = new double[2];
        small.Step(TwoPoints, a, 0, a);
        large.Step(TwoPoints, b, 0, b);
        TwoPoints.Loss(b).Should().BeGreaterThan(TwoPoints.Loss(a));
        large.Separate(TwoPoints).Iterations.Should().Be(2);
        var separated = large.Separate(TwoPoints).Theta.ToArray();
        separated[0].Should().BeApproximately(100, 1e-6);
        separated[1].Should().BeApproximately(25, 1e-6);
        var m = new double[2];
        TwoPoints.Margins(separated, m);
        double tiny = 0.5 * (Math.Exp(-m[0]) + Math.Exp(-m[1]));
        tiny.Should().BeApproximately(0.5 * Math.Exp(-75), 1e-40);
        TwoPoints.Loss(separated).Should().BeApproximately(tiny, 1e-12 * tiny, "softplus(−m) ≈ e^{−m} keeps full relative precision");
    }

    [Fact]
    public void Perceptron_vectors()
    {
        var batch = new LargeStepSeparation(SeparationMethod.BatchPerceptron);
        var theta = new double[2];
        batch.Step(TwoPoints, theta, 0, theta);
        theta.Should().Equal(0.5, 0.75);
        var margins = new double[2];
        TwoPoints.Margins(theta, margins);
        margins[0].Should().BeLessThanOrEqualTo(0, "S₁ = {1}");
        margins[1].Should().BePositive();
        batch.Step(TwoPoints, theta, 1, theta);
        theta.Should().Equal(1, 0.25);
        var result = batch.Separate(TwoPoints);
        result.Iterations.Should().Be(2);
        result.Converged.Should().BeTrue();
        result.Theta.ToArray().Should().Equal(1, 0.25);

        var normalized = new LargeStepSeparation(SeparationMethod.NormalizedBatchPerceptron);
        theta = new double[2];
        normalized.Step(TwoPoints, theta, 0, theta);
        theta.Should().Equal(1, 1.5);
        normalized.Step(TwoPoints, theta, 1, theta);
        theta.Should().Equal(2, 0.5);
        normalized.Separate(TwoPoints).Iterations.Should().Be(2);
    }

    [Theory]
    [InlineData(100, 2.000000, 2, 0.5)]
    [InlineData(1, 3.208365, 2, 0.507307)]
    public void Normalized_gradient_descent_vectors(double gamma, double beta1, double theta2x, double theta2y)
    {
        var method = new LargeStepSeparation(SeparationMethod.NormalizedGradientDescent, gamma);
        var theta = new double[2];
        TwoPoints.NormalizationFactor(theta).Should().BeApproximately(2, 1e-15);
        method.Step(TwoPoints, theta, 0, theta);
        (theta[0] / gamma).Should().BeApproximately(1, 1e-12);
        (theta[1] / gamma).Should().BeApproximately(1.5, 1e-12);
        TwoPoints.NormalizationFactor(theta).Should().BeApproximately(beta1, 1e-6);
        method.Step(TwoPoints, theta, 1, theta);
        (theta[0] / gamma).Should().BeApproximately(theta2x, 1e-6);
        (theta[1] / gamma).Should().BeApproximately(theta2y, 1e-6);
    }

    /// <summary>The iterations to separate Theorem 5.1's worst case. The n = 1000 row holds the paper's Table 1
    /// (LR+GD γ = 100: 308; normalised LR+GD γ = 100, 10, 1, 0.1: 2, 2, 16, 157); the rest are reproductions from the
    /// same definitions, deterministic and therefore exact.</summary>
    [Theory]
    [InlineData(10, 4, 4, 4, 2, 2, 7, 60, 2)]
    [InlineData(100, 31, 31, 31, 2, 2, 11, 110, 2)]
    [InlineData(1000, 308, 301, 301, 2, 2, 16, 157, 2)]
    public void Worst_case_iteration_counts_reproduce_Table_1(int n, int gd100, int gd1e6, int batchPerceptron, int ngd100, int ngd10, int ngd1, int ngd01, int normalizedBatchPerceptron)
    {
        var data = BinaryClassificationData.WorstCase(n);
        data.Radius.Should().BeApproximately(Math.Sqrt(1.25), 1e-15);
        Count(data, SeparationMethod.GradientDescent, 100).Should().Be(gd100);
        Count(data, SeparationMethod.GradientDescent, 1e6).Should().Be(gd1e6);
        Count(data, SeparationMethod.BatchPerceptron, 1).Should().Be(batchPerceptron);
        Count(data, SeparationMethod.NormalizedGradientDescent, 100).Should().Be(ngd100);
        Count(data, SeparationMethod.NormalizedGradientDescent, 10).Should().Be(ngd10);
        Count(data, SeparationMethod.NormalizedGradientDescent, 1).Should().Be(ngd1);
        Count(data, SeparationMethod.NormalizedGradientDescent, 0.1).Should().Be(ngd01);
        Count(data, SeparationMethod.NormalizedBatchPerceptron, 1).Should().Be(normalizedBatchPerceptron);

        // The bounds of Theorems 3.3 and 5.3 (R²/μ² = 5 here) hold.
        batchPerceptron.Should().BeLessThanOrEqualTo(n * 5);
        normalizedBatchPerceptron.Should().BeLessThanOrEqualTo(5);
        Count(data, SeparationMethod.Perceptron, 1).Should().BeLessThanOrEqualTo(5);
    }

    [Fact]
    public void Large_step_gradient_descent_tracks_the_batch_perceptron()
    {
        var rng = new Random(2412);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(5, 60);
            int d = rng.Next(2, 6);
            var data = RandomSeparable(rng, n, d);
            var gd = new LargeStepSeparation(SeparationMethod.GradientDescent, 1e4, 2000);
            var perceptron = new LargeStepSeparation(SeparationMethod.BatchPerceptron, 1, 2000);
            var theta = new double[d];
            var hat = new double[d];
            int steps = Math.Min(perceptron.Separate(data).Iterations, 10);
            for (int t = 0; t < steps; t++)
            {
                gd.Step(data, theta, t, theta);
                perceptron.Step(data, hat, t, hat);
                for (int j = 0; j < d; j++)
                {
                    Math.Abs((theta[j] / 1e4) - hat[j]).Should().BeLessThan(1e-2, $"trial {trial}, t {t + 1}");
                }
            }

            var a = gd.Separate(data);
            var b = perceptron.Separate(data);
            a.Converged.Should().BeTrue();
            b.Converged.Should().BeTrue();
            Math.Abs(a.Iterations - b.Iterations).Should().BeLessThanOrEqualTo(1, $"trial {trial}");
        }
    }

    [Fact]
    public void Steps_match_a_float64_reference_on_random_data()
    {
        var rng = new Random(3);
        foreach (var method in Enum.GetValues<SeparationMethod>())
        {
            for (int trial = 0; trial < 30; trial++)
            {
                int n = rng.Next(1, 70);
                int d = rng.Next(1, 9);
                var x = Enumerable.Range(0, n * d).Select(_ => (rng.NextDouble() * 4) - 2).ToArray();
                var y = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0 ? -1 : 1).ToArray();
                var data = new BinaryClassificationData(x, y);
                var theta = Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
                double gamma = Math.Pow(10, rng.Next(-2, 3));
                int t = rng.Next(0, 3);
                var actual = new double[d];
                new LargeStepSeparation(method, gamma).Step(data, theta, t, actual);
                var expected = ReferenceStep(method, gamma, x, y, theta, t);
                for (int j = 0; j < d; j++)
                {
                    actual[j].Should().BeApproximately(expected[j], 1e-12 * Math.Max(1, Math.Abs(expected[j])), $"{method}, trial {trial}");
                }

                var gradient = new double[d];
                data.Gradient(theta, gradient);
                var expectedGradient = ReferenceStep(SeparationMethod.GradientDescent, -1, x, y, theta, 0).Zip(theta, (a, b) => a - b).ToArray();
                for (int j = 0; j < d; j++)
                {
                    gradient[j].Should().BeApproximately(expectedGradient[j], 1e-12);
                }

                double loss = Enumerable.Range(0, n).Average(i => Math.Log(1 + Math.Exp(-Margin(x, y, theta, i))));
                data.Loss(theta).Should().BeApproximately(loss, 1e-12 * Math.Max(1, loss));
                double beta = n / Enumerable.Range(0, n).Sum(i => 1 / (1 + Math.Exp(Margin(x, y, theta, i))));
                data.NormalizationFactor(theta).Should().BeApproximately(beta, 1e-12 * beta);
            }
        }
    }

    [Fact]
    public void Special_values()
    {
        // Every margin huge: 1/mean(σ(−m)) would be 1/0, but the normalised step stays finite.
        var theta = new[] { 2e4, -1e3 };
        var margins = new double[2];
        TwoPoints.Margins(theta, margins);
        margins.Should().Equal(21000, 16000);
        var next = new double[2];
        new LargeStepSeparation(SeparationMethod.NormalizedGradientDescent, 1).Step(TwoPoints, theta, 5, next);
        next.All(double.IsFinite).Should().BeTrue();
        (next[0] - theta[0]).Should().BeApproximately(1, 1e-12, "all weight on the smallest margin, point 2: Δ = y₂a₂ = (1, 4)");
        (next[1] - theta[1]).Should().BeApproximately(4, 1e-12);
        TwoPoints.NormalizationFactor(theta).Should().Be(double.PositiveInfinity);
        TwoPoints.Loss(theta).Should().BeGreaterThanOrEqualTo(0);
        TwoPoints.Loss(new[] { -1e6, 1e6 }).Should().BeApproximately(1e6, 1e-6, "softplus(2e6)/2, no overflow");
        new LargeStepSeparation(SeparationMethod.GradientDescent, 1e300).Separate(TwoPoints).Converged.Should().BeTrue();

        // Non-separable data: a flag, not an exception.
        var xor = new BinaryClassificationData(new double[] { 1, 1, -1, -1, 1, -1, -1, 1 }, new[] { 1, 1, -1, -1 });
        var result = new LargeStepSeparation(SeparationMethod.BatchPerceptron, 1, 50).Separate(xor);
        result.Converged.Should().BeFalse();
        result.Iterations.Should().Be(50);

        // θ₀ = 0 never counts: one step is the minimum.
        var easy = new BinaryClassificationData(new double[] { 1, 0 }, new[] { 1 });
        new LargeStepSeparation(SeparationMethod.Perceptron).Separate(easy).Iterations.Should().Be(1);
    }

    [Fact]
    public void Invalid_input()
    {
        foreach (double gamma in new[] { 0, -1, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => new LargeStepSeparation(SeparationMethod.GradientDescent, gamma)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("stepSize");
        }

        FluentActions.Invoking(() => new LargeStepSeparation(SeparationMethod.GradientDescent, 1, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxIterations");
        FluentActions.Invoking(() => new LargeStepSeparation((SeparationMethod)99)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("method");
        FluentActions.Invoking(() => new BinaryClassificationData(new double[] { 1, 2 }, new[] { 1, 0 })).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => new BinaryClassificationData(new double[] { 1, 2, 3 }, new[] { 1, -1 })).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => new BinaryClassificationData(Array.Empty<double>(), Array.Empty<int>())).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => new BinaryClassificationData(new double[] { 1, double.NaN }, new[] { 1, -1 })).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => BinaryClassificationData.WorstCase(1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("count");
        var method = new LargeStepSeparation(SeparationMethod.GradientDescent);
        FluentActions.Invoking(() => method.Step(TwoPoints, new double[3], 0, new double[3])).Should().Throw<ArgumentException>().WithParameterName("theta");
        FluentActions.Invoking(() => method.Step(TwoPoints, new double[2], 0, new double[1])).Should().Throw<ArgumentException>().WithParameterName("destination");
        FluentActions.Invoking(() => method.Step(TwoPoints, new double[2], -1, new double[2])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("iteration");
        FluentActions.Invoking(() => method.Separate(null!)).Should().Throw<ArgumentNullException>();
    }

    private static int Count(BinaryClassificationData data, SeparationMethod method, double gamma)
    {
        var result = new LargeStepSeparation(method, gamma).Separate(data);
        result.Converged.Should().BeTrue();
        return result.Iterations;
    }

    private static BinaryClassificationData RandomSeparable(Random rng, int n, int d)
    {
        var direction = Enumerable.Range(0, d).Select(_ => (rng.NextDouble() * 2) - 1).ToArray();
        var x = new double[n * d];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            double dot;
            do
            {
                dot = 0;
                for (int j = 0; j < d; j++)
                {
                    x[(i * d) + j] = (rng.NextDouble() * 2) - 1;
                    dot += x[(i * d) + j] * direction[j];
                }
            }
            while (Math.Abs(dot) < 0.1);
            y[i] = dot > 0 ? 1 : -1;
        }

        return new BinaryClassificationData(x, y);
    }

    private static double Margin(double[] x, int[] y, double[] theta, int i)
    {
        int d = theta.Length;
        double total = 0;
        for (int j = 0; j < d; j++)
        {
            total += x[(i * d) + j] * theta[j];
        }

        return y[i] * total;
    }

    /// <summary>The updates written directly from their definitions, σ(−m) = 1/(1 + e^m) (safe for these margins).</summary>
    private static double[] ReferenceStep(SeparationMethod method, double gamma, double[] x, int[] y, double[] theta, int t)
    {
        int n = y.Length, d = theta.Length;
        var m = Enumerable.Range(0, n).Select(i => Margin(x, y, theta, i)).ToArray();
        var sigma = m.Select(v => 1 / (1 + Math.Exp(v))).ToArray();
        var w = new double[n];
        switch (method)
        {
            case SeparationMethod.GradientDescent:
                for (int i = 0; i < n; i++)
                {
                    w[i] = gamma * sigma[i] / n;
                }

                break;
            case SeparationMethod.NormalizedGradientDescent:
                double beta = n / sigma.Sum();
                for (int i = 0; i < n; i++)
                {
                    w[i] = gamma * beta * sigma[i] / n;
                }

                break;
            case SeparationMethod.BatchPerceptron:
                for (int i = 0; i < n; i++)
                {
                    w[i] = t == 0 ? 0.5 / n : m[i] <= 0 ? 1.0 / n : 0;
                }

                break;
            case SeparationMethod.NormalizedBatchPerceptron:
                int size = m.Count(v => v <= 0);
                for (int i = 0; i < n; i++)
                {
                    w[i] = m[i] <= 0 ? 1.0 / size : 0;
                }

                break;
            default:
                int first = Array.FindIndex(m, v => v <= 0);
                if (first >= 0)
                {
                    w[first] = 1;
                }

                break;
        }

        var next = (double[])theta.Clone();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                next[j] += w[i] * y[i] * x[(i * d) + j];
            }
        }

        return next;
    }
}

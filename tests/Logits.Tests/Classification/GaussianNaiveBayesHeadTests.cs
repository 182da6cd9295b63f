using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Classification;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Classification;

/// <summary>The pooled-variance Gaussian naive Bayes head: worked vectors, a from-scratch float64 reference, streaming and merging, invalid input.</summary>
public sealed class GaussianNaiveBayesHeadTests
{
    private static readonly double[] TwoClassX = { 0, 1, 2, 1, 4, 5, 6, 3 };
    private static readonly int[] TwoClassY = { 0, 0, 1, 1 };
    private static readonly double[] ThreeClassX = { 0, 0, 1, 0, 0, 1, 3, 3, 4, 3, 5, 5, 6, 4 };
    private static readonly int[] ThreeClassY = { 0, 0, 0, 1, 1, 2, 2 };

    [Fact]
    public void Two_class_vector()
    {
        var head = GaussianNaiveBayesHead.Fit(TwoClassX, TwoClassY, 2);
        Vector(head.ClassMean, 0).Should().Equal(1, 1);
        Vector(head.ClassMean, 1).Should().Equal(5, 4);
        var variance = new double[2];
        head.PooledVariance(variance);
        variance[0].Should().BeApproximately(1.000000001, 1e-15);
        variance[1].Should().BeApproximately(0.500000001, 1e-15);

        var linear = head.ToLinear();
        Near(linear.Weights.ToArray(), new[] { 1.0, 2, 5, 8 }, 1e-6);
        linear.Weights[2].Should().BeLessThan(5, "the ε term makes the second row 4.99999999…");
        Near(linear.Bias.ToArray(), new[] { -2.193147, -29.193147 }, 1e-6);

        var z = new double[2];
        head.Logits(new[] { 3.0, 2 }, z);
        Near(z, new[] { 4.806853, 1.806853 }, 1e-6);
        var p = new double[2];
        linear.Probabilities(new[] { 3.0, 2 }, p);
        Near(p, new[] { 0.952574, 0.047426 }, 1e-6);
        var joint = new double[2];
        head.LogJoint(new[] { 3.0, 2 }, joint);
        (z[0] - joint[0]).Should().BeApproximately(8.5, 1e-6);
        (z[1] - joint[1]).Should().BeApproximately(8.5, 1e-6);
        head.Predict(new[] { 3.0, 2 }).Should().Be(0);
    }

    [Fact]
    public void Three_class_vector_with_unequal_priors()
    {
        var head = GaussianNaiveBayesHead.Fit(ThreeClassX, ThreeClassY, 3);
        head.SampleCount.Should().Be(7);
        (head.ClassSampleCount(0) / 7.0).Should().BeApproximately(0.428571, 1e-6);
        (head.ClassSampleCount(1) / 7.0).Should().BeApproximately(0.285714, 1e-6);
        Near(Vector(head.ClassMean, 0), new[] { 1.0 / 3, 1.0 / 3 }, 1e-15);
        Near(Vector(head.ClassMean, 1), new[] { 3.5, 3 }, 1e-15);
        Near(Vector(head.ClassMean, 2), new[] { 5.5, 4.5 }, 1e-15);
        var variance = new double[2];
        head.PooledVariance(variance);
        Near(variance, new[] { 0.238095, 0.166667 }, 1e-6);

        var linear = head.ToLinear();
        Near(linear.Weights.ToArray(), new[] { 1.4, 2.0, 14.7, 18.0, 23.1, 27.0 }, 1e-6);
        Near(linear.Bias.ToArray(), new[] { -1.413965, -53.977763, -125.527762 }, 1e-6);
        var x = new[] { 2.0, 2 };
        var z = new double[3];
        head.Logits(x, z);
        Near(z, new[] { 5.386035, 11.422237, -25.327763 }, 1e-6);
        var p = new double[3];
        linear.Probabilities(x, p);
        Near(p, new[] { 0.002385, 0.997615, 0.000000 }, 1e-6);
        head.Predict(x).Should().Be(1);
        var joint = new double[3];
        head.LogJoint(x, joint);
        for (int k = 0; k < 3; k++)
        {
            (z[k] - joint[k]).Should().BeApproximately(20.4, 1e-6);
        }

        var first = GaussianNaiveBayesHead.Fit(ThreeClassX.AsSpan(0, 8), ThreeClassY.AsSpan(0, 4), 3);
        var second = GaussianNaiveBayesHead.Fit(ThreeClassX.AsSpan(8), ThreeClassY.AsSpan(4), 3);
        first.Merge(second);
        first.PooledVariance(variance);
        Near(variance, new[] { 0.238095, 0.166667 }, 1e-6);
    }

    [Fact]
    public void Matches_a_from_scratch_float64_reference_on_random_shapes()
    {
        var rng = new Random(19);
        for (int trial = 0; trial < 60; trial++)
        {
            int k = rng.Next(2, 7);
            int n = trial < 5 ? trial + 1 : rng.Next(1, 40);
            int m = rng.Next(k, 200);
            var (x, y) = RandomData(rng, m, n, k);
            double eps = trial % 3 == 0 ? 0 : Math.Pow(10, -rng.Next(0, 12));
            var head = GaussianNaiveBayesHead.Fit(x, y, k, eps);
            var (w, b, variance) = Reference(x, y, k, n, eps);
            var actualVariance = new double[n];
            head.PooledVariance(actualVariance);
            RelativeError(actualVariance, variance).Should().BeLessThan(1e-12);
            var linear = head.ToLinear();
            RelativeError(linear.Weights.ToArray(), w).Should().BeLessThan(1e-12, $"trial {trial}");
            RelativeError(linear.Bias.ToArray(), b).Should().BeLessThan(1e-12, $"trial {trial}");

            // Posterior = softmax of the full Gaussian log-joint (normaliser included) = softmax of the logits.
            var probe = Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 6) - 3).ToArray();
            var p = new double[k];
            linear.Probabilities(probe, p);
            var expected = ReferencePosterior(x, y, k, n, eps, probe);
            for (int c = 0; c < k; c++)
            {
                p[c].Should().BeApproximately(expected[c], 1e-9);
            }
        }
    }

    [Fact]
    public void Streaming_and_merging_equal_the_batch_fit_to_1e_12_after_any_split_and_order()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 40; trial++)
        {
            int k = rng.Next(2, 6);
            int n = rng.Next(1, 30);
            int m = rng.Next(2 * k, 400);
            var (x, y) = RandomData(rng, m, n, k);
            var batch = GaussianNaiveBayesHead.Fit(x, y, k).ToLinear();

            // Random cut points; chunks may be empty or miss classes.
            var cuts = Enumerable.Range(0, rng.Next(1, 9)).Select(_ => rng.Next(0, m + 1)).Append(0).Append(m).Distinct().OrderBy(c => c).ToArray();
            var parts = new List<GaussianNaiveBayesHead>();
            var streamed = new GaussianNaiveBayesHead(k, n);
            for (int c = 0; c + 1 < cuts.Length; c++)
            {
                var xs = x.AsSpan(cuts[c] * n, (cuts[c + 1] - cuts[c]) * n);
                var ys = y.AsSpan(cuts[c], cuts[c + 1] - cuts[c]);
                streamed.PartialFit(xs, ys);
                var part = new GaussianNaiveBayesHead(k, n);
                part.PartialFit(xs, ys);
                parts.Add(part);
            }

            Compare(streamed.ToLinear(), batch, $"streamed, trial {trial}");

            // Merge the chunk summaries in a random tree order.
            while (parts.Count > 1)
            {
                int i = rng.Next(parts.Count);
                int j = rng.Next(parts.Count - 1);
                if (j >= i)
                {
                    j++;
                }

                parts[i].Merge(parts[j]);
                parts.RemoveAt(j);
            }

            Compare(parts[0].ToLinear(), batch, $"merged, trial {trial}");
        }
    }

    [Fact]
    public void Merging_a_head_into_itself_doubles_the_counts_and_keeps_the_logits()
    {
        var head = GaussianNaiveBayesHead.Fit(ThreeClassX, ThreeClassY, 3);
        var before = head.ToLinear();
        var doubled = head.Clone();
        doubled.Merge(doubled);
        doubled.SampleCount.Should().Be(14);
        head.SampleCount.Should().Be(7, "the clone is independent");
        var variance = new double[2];
        doubled.PooledVariance(variance);
        Near(variance, new[] { 0.238095, 0.166667 }, 1e-6);
        Compare(doubled.ToLinear(), before, "doubled");
    }

    [Fact]
    public void Writes_a_logit_batch_that_a_softmax_turns_into_the_posterior()
    {
        var head = GaussianNaiveBayesHead.Fit(ThreeClassX, ThreeClassY, 3).ToLinear();
        var features = new float[] { 2, 2, 0, 0, 6, 5 };
        using var batch = new CpuLogitBatch(3, 3);
        head.WriteLogits(features, batch);
        var values = batch.ToArray();
        var z = new double[3];
        for (int r = 0; r < 3; r++)
        {
            head.Logits(new double[] { features[2 * r], features[(2 * r) + 1] }, z);
            for (int c = 0; c < 3; c++)
            {
                ((double)values[(r * 3) + c]).Should().BeApproximately(z[c], 1e-5 * Math.Max(1, Math.Abs(z[c])));
            }
        }

        using var fromDoubles = new CpuLogitBatch(3, 3);
        head.WriteLogits(features.Select(f => (double)f).ToArray(), fromDoubles);
        fromDoubles.ToArray().Should().Equal(values);
    }

    [Fact]
    public void Special_values()
    {
        // Tiny pooled variance: W grows like 1/ε but the softmax stays finite and certain.
        var x = new double[] { 0, 1, 0, 1, 1, 1, 1, 1 };
        var y = new[] { 0, 0, 1, 1 };
        var head = GaussianNaiveBayesHead.Fit(x, y, 2, 1e-12);
        var p = new double[2];
        head.ToLinear().Probabilities(new double[] { 1, 1 }, p);
        p[1].Should().Be(1);
        p.All(double.IsFinite).Should().BeTrue();

        // Huge offsets: Welford/Chan keeps the variance that Σx² − (Σx)²/m would lose.
        var shifted = TwoClassX.Select(v => v + 1e9).ToArray();
        var variance = new double[2];
        GaussianNaiveBayesHead.Fit(shifted, TwoClassY, 2).PooledVariance(variance);
        Near(variance, new[] { 1.000000001, 0.500000001 }, 1e-9);

        // A logit beyond float32 cannot be written to a batch as +∞.
        var big = new LinearLogitHead(new[] { 1e39, 0 }, new[] { 0.0, 0 });
        using var batch = new CpuLogitBatch(1, 2);
        var act = () => big.WriteLogits(new float[] { 1 }, batch);
        act.Should().Throw<InvalidLogitsException>();
    }

    [Fact]
    public void Invalid_input()
    {
        FluentActions.Invoking(() => new GaussianNaiveBayesHead(1, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classCount");
        FluentActions.Invoking(() => new GaussianNaiveBayesHead(2, 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("featureCount");
        foreach (double eps in new[] { -1e-9, double.NaN, double.PositiveInfinity })
        {
            FluentActions.Invoking(() => new GaussianNaiveBayesHead(2, 2, eps)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("varSmoothing");
        }

        FluentActions.Invoking(() => GaussianNaiveBayesHead.Fit(TwoClassX, new[] { 0, 0, 2, 1 }, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
        FluentActions.Invoking(() => GaussianNaiveBayesHead.Fit(TwoClassX, new[] { 0, -1, 1, 1 }, 2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("labels");
        FluentActions.Invoking(() => GaussianNaiveBayesHead.Fit(TwoClassX, new[] { 0, 0, 1 }, 2)).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => GaussianNaiveBayesHead.Fit(TwoClassX, Array.Empty<int>(), 2)).Should().Throw<ArgumentException>().WithParameterName("labels");
        var nan = (double[])TwoClassX.Clone();
        nan[3] = double.NaN;
        FluentActions.Invoking(() => GaussianNaiveBayesHead.Fit(nan, TwoClassY, 2)).Should().Throw<ArgumentException>().WithParameterName("features");

        var head = GaussianNaiveBayesHead.Fit(TwoClassX, TwoClassY, 2);
        var before = head.ToLinear().Weights.ToArray();
        FluentActions.Invoking(() => head.PartialFit(new double[] { 1, 2, 3 }, new[] { 0 })).Should().Throw<ArgumentException>().WithParameterName("features");
        FluentActions.Invoking(() => head.PartialFit(new double[] { 1, 2, 3, 4 }, new[] { 0, 5 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => head.PartialFit(new double[] { 1, 2, 3, double.PositiveInfinity }, new[] { 0, 1 })).Should().Throw<ArgumentException>();
        head.SampleCount.Should().Be(4, "a rejected chunk changes nothing");
        head.ToLinear().Weights.ToArray().Should().Equal(before);
        FluentActions.Invoking(() => head.Merge(new GaussianNaiveBayesHead(3, 2))).Should().Throw<ArgumentException>().WithParameterName("other");
        FluentActions.Invoking(() => head.Merge(new GaussianNaiveBayesHead(2, 2, 1e-3))).Should().Throw<ArgumentException>().WithParameterName("other");
        FluentActions.Invoking(() => head.Logits(new double[] { 1 }, new double[2])).Should().Throw<ArgumentException>().WithParameterName("x");
        FluentActions.Invoking(() => head.Logits(new double[] { 1, double.NaN }, new double[2])).Should().Throw<ArgumentException>().WithParameterName("x");
        FluentActions.Invoking(() => head.Logits(new double[] { 1, 1 }, new double[1])).Should().Throw<ArgumentException>().WithParameterName("destination");
        FluentActions.Invoking(() => head.ClassSampleCount(2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("classIndex");

        // A class never observed: no prior, no mean, no logits.
        var missing = GaussianNaiveBayesHead.Fit(TwoClassX, TwoClassY, 3);
        FluentActions.Invoking(() => missing.ToLinear()).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => missing.Predict(new double[] { 1, 1 })).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => new GaussianNaiveBayesHead(2, 2).PooledVariance(new double[2])).Should().Throw<InvalidOperationException>();

        // ε = 0 with a feature constant within every class: σ² = 0.
        var constant = GaussianNaiveBayesHead.Fit(new double[] { 0, 5, 1, 5, 2, 7, 3, 7 }, TwoClassY, 2, 0);
        FluentActions.Invoking(() => constant.ToLinear()).Should().Throw<InvalidOperationException>().WithMessage("*feature 1*");

        FluentActions.Invoking(() => new LinearLogitHead(new double[] { 1, 2, 3 }, new double[] { 0, 0 })).Should().Throw<ArgumentException>().WithParameterName("weights");
        FluentActions.Invoking(() => new LinearLogitHead(new double[] { 1, 2 }, ReadOnlySpan<double>.Empty)).Should().Throw<ArgumentException>().WithParameterName("bias");
        FluentActions.Invoking(() => new LinearLogitHead(new double[] { 1, double.NaN }, new double[] { 0, 0 })).Should().Throw<ArgumentException>().WithParameterName("weights");
        using var wrong = new CpuLogitBatch(2, 3);
        FluentActions.Invoking(() => head.ToLinear().WriteLogits(new float[4], wrong)).Should().Throw<ArgumentException>().WithParameterName("destination");
    }

    private delegate void ClassVector(int classIndex, Span<double> destination);

    private static double[] Vector(ClassVector read, int k)
    {
        var values = new double[2];
        read(k, values);
        return values;
    }

    private static void Near(double[] actual, double[] expected, double tolerance)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], tolerance, $"index {i}");
        }
    }

    private static void Compare(LinearLogitHead actual, LinearLogitHead expected, string because)
    {
        RelativeError(actual.Weights.ToArray(), expected.Weights.ToArray()).Should().BeLessThan(1e-12, because);
        RelativeError(actual.Bias.ToArray(), expected.Bias.ToArray()).Should().BeLessThan(1e-12, because);
    }

    /// <summary>max|a − e| / max|e|: relative to the array's scale, so a mean that is 0 up to rounding does not count as a large relative error.</summary>
    private static double RelativeError(double[] actual, double[] expected)
    {
        double scale = expected.Max(Math.Abs);
        double error = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        return scale == 0 ? error : error / scale;
    }

    private static (double[] X, int[] Y) RandomData(Random rng, int m, int n, int k)
    {
        var y = Enumerable.Range(0, m).Select(r => r < k ? r : rng.Next(k)).ToArray();
        var x = new double[m * n];
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                x[(r * n) + j] = (3 * y[r]) + 10 + (rng.NextDouble() * (1 + j % 3));
            }
        }

        return (x, y);
    }

    private static (double[] W, double[] B, double[] Variance) Reference(double[] x, int[] y, int k, int n, double eps)
    {
        int m = y.Length;
        var mean = new double[k, n];
        var count = new int[k];
        for (int r = 0; r < m; r++)
        {
            count[y[r]]++;
            for (int j = 0; j < n; j++)
            {
                mean[y[r], j] += x[(r * n) + j];
            }
        }

        for (int c = 0; c < k; c++)
        {
            for (int j = 0; j < n; j++)
            {
                mean[c, j] /= count[c];
            }
        }

        // Pooled variance as the prior-weighted mean of the per-class (population variance + ε).
        var variance = new double[n];
        for (int c = 0; c < k; c++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int r = 0; r < m; r++)
                {
                    if (y[r] == c)
                    {
                        double d = x[(r * n) + j] - mean[c, j];
                        s += d * d;
                    }
                }

                variance[j] += (double)count[c] / m * ((s / count[c]) + eps);
            }
        }

        var w = new double[k * n];
        var b = new double[k];
        for (int c = 0; c < k; c++)
        {
            b[c] = Math.Log((double)count[c] / m);
            for (int j = 0; j < n; j++)
            {
                w[(c * n) + j] = mean[c, j] / variance[j];
                b[c] -= 0.5 * mean[c, j] * mean[c, j] / variance[j];
            }
        }

        return (w, b, variance);
    }

    private static double[] ReferencePosterior(double[] x, int[] y, int k, int n, double eps, double[] probe)
    {
        var (w, _, variance) = Reference(x, y, k, n, eps);
        var logJoint = new double[k];
        for (int c = 0; c < k; c++)
        {
            double prior = y.Count(v => v == c) / (double)y.Length;
            logJoint[c] = Math.Log(prior);
            for (int j = 0; j < n; j++)
            {
                double mu = w[(c * n) + j] * variance[j];
                logJoint[c] += (-0.5 * Math.Log(2 * Math.PI * variance[j])) - (0.5 * (probe[j] - mu) * (probe[j] - mu) / variance[j]);
            }
        }

        double max = logJoint.Max();
        var p = logJoint.Select(v => Math.Exp(v - max)).ToArray();
        double sum = p.Sum();
        return p.Select(v => v / sum).ToArray();
    }
}

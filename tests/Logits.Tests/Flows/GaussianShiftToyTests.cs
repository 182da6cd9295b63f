using System;
using FluentAssertions;
using Logits.Flows;
using Logits.Flows.Testing;
using Logits.Flows.Training;
using Logits.Randomness;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Flows;

/// <summary>
/// The exact reflow toy: π0 = N(0, I₂) → π1 = N((4, 0), I₂) with the independent coupling, whose 1- and 2-rectified
/// flows have population values in closed form. The 1-RF is the exact conditional-mean velocity; the 2-RF is fitted
/// to reflow pairs generated from it. A seeded set of 2000 start points is pushed through both and the Monte Carlo
/// estimates must land within about three standard errors of the closed forms.
/// </summary>
/// <remarks>
/// Closed forms (derivation in docs/flows.md, "The exact toy"): along the exact 1-RF path <c>Z_t = s(t)·z0 + tμ</c>,
/// <c>s(t) = √((1−t)² + t²)</c>, the velocity is <c>μ + k(t)·s(t)·z0</c> with <c>k(t) = (2t − 1)/s(t)²</c>. Euler with N
/// steps keeps that form, <c>x_i = b_i·z0 + t_i·μ</c>, <c>b_{i+1} = b_i(1 + h·k(t_i))</c>, so its endpoint is
/// <c>N(μ, a_N²I)</c> with <c>a_N = b_N</c>; its error against the exact endpoint is <c>E‖Z1^N − Z1‖² = d(a_N − 1)²</c>, its
/// straightness estimate is <c>E Ŝ = d·Σ_i h·(k(t_i)·b_i − (a_N − 1))²</c> (population <c>S = d(2 − π/2)</c> as N → ∞),
/// and the energy distance of its endpoint law to π1 in 2-D is <c>√(π/2)·(2√(a² + 1) − √2·a − √2)</c>. The reflow
/// coupling is <c>z0 ↦ z0 + μ</c>, so the 2-RF is <c>v ≡ μ</c>: straight, exact in one step, transport cost ‖μ‖².
/// </remarks>
public sealed class GaussianShiftToyTests
{
    private const int Dimension = 2;
    private const int Samples = 2000;
    private static readonly double[] Mu = { 4, 0 };

    [Fact]
    public void Closed_forms_reproduce_the_published_toy_values()
    {
        // The closed forms below are the test's reference; pin them to the values they must give.
        EulerScale(1).Should().Be(0);
        EulerScale(2).Should().BeApproximately(0.5, 1e-12);
        EulerScale(4).Should().BeApproximately(0.72, 1e-12);
        EulerScale(8).Should().BeApproximately(0.850822, 1e-6);
        EulerError(1).Should().BeApproximately(2, 1e-12);
        EulerError(4).Should().BeApproximately(0.1568, 1e-12);
        EulerError(8).Should().BeApproximately(0.044508, 1e-6);
        EulerStraightness(100).Should().BeApproximately(0.847486, 1e-6);
        EulerStraightness(100_000).Should().BeApproximately(Dimension * (2 - (Math.PI / 2)), 1e-4, "the population straightness 0.858407");
        EnergyDistanceToTarget(EulerScale(1)).Should().BeApproximately(0.734174, 1e-6);
        EnergyDistanceToTarget(EulerScale(2)).Should().BeApproximately(0.143815, 1e-6);
        EnergyDistanceToTarget(1).Should().Be(0);
    }

    [Fact]
    public void One_rectified_flow_matches_its_closed_form_population_values()
    {
        var field = GaussianMixtureFlow.GaussianShift(Mu);
        var (noise, target) = Draw(seed: 2024);
        float[] reference = Integrate(field, new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(100)), noise, null);

        // The exact flow transports π0 onto π1 point by point: Z1 = z0 + μ.
        MeanSquaredDistance(reference, Shifted(noise)).Should().BeLessThan(1e-8);

        // Straightness from Euler N = 100; ‖z0‖² ~ χ²₂ gives a standard error of about 0.019 at 2000 samples.
        var path = new FlowTrajectory();
        Integrate(field, FlowSampler.Euler(100), noise, path);
        Straightness.Estimate(path).Should().BeApproximately(EulerStraightness(100), 0.06);

        foreach (int steps in new[] { 1, 2, 4, 8 })
        {
            float[] end = Integrate(field, FlowSampler.Euler(steps), noise, null);

            // Error against the exact endpoint: d(a_N − 1)², standard error about 2.2 % of it at 2000 samples.
            double tolerance = steps == 1 ? 0.15 : 0.08 * EulerError(steps);
            MeanSquaredDistance(end, reference).Should().BeApproximately(EulerError(steps), tolerance, $"Euler N = {steps}");

            // Energy distance to an independent target set: closed form within the estimator's noise (≲ 0.005 here).
            EnergyDistance(end, target).Should().BeApproximately(EnergyDistanceToTarget(EulerScale(steps)), steps <= 2 ? 0.03 : 0.015, $"Euler N = {steps}");
        }

        // One Euler step sends every start point to the mean of π1.
        float[] oneStep = Integrate(field, FlowSampler.Euler(1), noise, null);
        for (int i = 0; i < Samples; i++)
        {
            oneStep[2 * i].Should().BeApproximately((float)Mu[0], 1e-5f);
            oneStep[(2 * i) + 1].Should().BeApproximately((float)Mu[1], 1e-5f);
        }
    }

    [Fact]
    public void Two_rectified_flow_fitted_to_reflow_pairs_is_straight_and_exact_in_one_step()
    {
        var oneRectified = GaussianMixtureFlow.GaussianShift(Mu);
        var (noise, target) = Draw(seed: 7);
        using var noiseBatch = CpuLogitBatch.FromRows(noise.AsSpan(0, 1000 * Dimension).ToArray(), 1000, Dimension);
        using var pairs = ReflowPairs.Generate(oneRectified, new FlowSampler(OdeSolver.RungeKutta4, TimeGrid.Uniform(100)), noiseBatch);

        // The reflow coupling is z0 ↦ z0 + μ; its cost is ‖μ‖² = 16 against 16 + 2d = 20 for the independent coupling.
        pairs.TransportCost().Should().BeApproximately(16, 1e-4);
        double independent = MeanSquaredDistance(target, noise);
        independent.Should().BeApproximately(16 + (2 * Dimension), 0.6);

        // The kernel field costs pairs × points per call, so it runs 500 fresh points (ED noise floor about 0.01).
        var twoRectified = new PairRegressionField(pairs.Start.ToArray(), pairs.End.ToArray());
        float[] fresh = Draw(seed: 8).Noise.AsSpan(0, 500 * Dimension).ToArray();
        var path = new FlowTrajectory();
        float[] many = Integrate(twoRectified, FlowSampler.Euler(100), fresh, path);
        Straightness.Estimate(path).Should().BeLessThan(1e-6, "the 2-RF velocity is the constant μ");

        float[] oneStep = Integrate(twoRectified, FlowSampler.Euler(1), fresh, null);
        MeanSquaredDistance(oneStep, many).Should().BeLessThan(1e-8, "one Euler step of a straight flow is exact");
        MeanSquaredDistance(oneStep, Shifted(fresh)).Should().BeLessThan(1e-8);
        Math.Abs(EnergyDistance(oneStep, target)).Should().BeLessThan(0.03, "the one-step samples follow π1");

        // Against the 1-RF's one-step energy distance 0.734: reflow is what makes one step enough.
        EnergyDistance(Integrate(oneRectified, FlowSampler.Euler(1), fresh, null), target).Should().BeGreaterThan(0.6);
    }

    /// <summary>a_N: the scale of z0 in the Euler endpoint <c>b_N·z0 + μ</c>.</summary>
    private static double EulerScale(int steps)
    {
        double h = 1.0 / steps, b = 1;
        for (int i = 0; i < steps; i++)
        {
            b *= 1 + (h * K(i * h));
        }

        return b;
    }

    private static double EulerError(int steps) => Dimension * Math.Pow(EulerScale(steps) - 1, 2);

    private static double EulerStraightness(int steps)
    {
        double h = 1.0 / steps, chord = EulerScale(steps) - 1, b = 1, sum = 0;
        for (int i = 0; i < steps; i++)
        {
            double slope = K(i * h) * b;
            sum += h * (slope - chord) * (slope - chord);
            b *= 1 + (h * K(i * h));
        }

        return Dimension * sum;
    }

    /// <summary>k(t) = (2t − 1)/((1 − t)² + t²): the exact 1-RF velocity is <c>μ + k(t)(x − tμ)</c>.</summary>
    private static double K(double t) => ((2 * t) - 1) / (((1 - t) * (1 - t)) + (t * t));

    /// <summary>ED(N(μ, a²I₂), N(μ, I₂)) = √(π/2)·(2√(a² + 1) − √2·a − √2): E‖X‖ of N(0, σ²I₂) is σ√(π/2).</summary>
    private static double EnergyDistanceToTarget(double a) =>
        Math.Sqrt(Math.PI / 2) * ((2 * Math.Sqrt((a * a) + 1)) - (Math.Sqrt(2) * a) - Math.Sqrt(2));

    private static (float[] Noise, float[] Target) Draw(ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var noise = new float[Samples * Dimension];
        var target = new float[Samples * Dimension];
        GaussianMixture.StandardNormal(Dimension).Sample(random, noise);
        new GaussianMixture(Mu, Dimension, 1).Sample(random, target);
        return (noise, target);
    }

    private static float[] Shifted(float[] noise)
    {
        var shifted = (float[])noise.Clone();
        for (int i = 0; i < shifted.Length; i++)
        {
            shifted[i] += (float)Mu[i % Dimension];
        }

        return shifted;
    }

    private static float[] Integrate(IVelocityField field, FlowSampler sampler, float[] start, FlowTrajectory? path)
    {
        using var state = CpuLogitBatch.FromRows(start, start.Length / Dimension, Dimension);
        sampler.Sample(field, state, FlowDirection.Forward, path);
        return state.ToArray();
    }

    private static double MeanSquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }

        return sum / (a.Length / Dimension);
    }

    /// <summary>Energy distance with U-statistics for the within-set terms (it can be slightly negative when P = Q).</summary>
    private static double EnergyDistance(float[] x, float[] y) =>
        (2 * MeanDistance(x, y, within: false)) - MeanDistance(x, x, within: true) - MeanDistance(y, y, within: true);

    private static double MeanDistance(float[] a, float[] b, bool within)
    {
        int n = a.Length / 2, m = b.Length / 2;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                if (within && i == j)
                {
                    continue;
                }

                double dx = (double)a[2 * i] - b[2 * j], dy = (double)a[(2 * i) + 1] - b[(2 * j) + 1];
                sum += Math.Sqrt((dx * dx) + (dy * dy));
            }
        }

        return sum / (within ? (double)n * (n - 1) : (double)n * m);
    }

    /// <summary>
    /// The 2-RF's population minimiser <c>E[Z1 − Z0 | X_t = x]</c> estimated from the pairs by kernel regression
    /// (Nadaraya–Watson, bandwidth 0.2, over the interpolants <c>t·z1 + (1 − t)·z0</c>): what reflow's regression converges
    /// to with enough data. It knows nothing of μ: its velocity is μ only because the pairs' differences are.
    /// </summary>
    private sealed class PairRegressionField(float[] start, float[] end) : IVelocityField
    {
        private const double Bandwidth = 0.2;

        public void Evaluate(LogitBatch x, double t, LogitBatch destination)
        {
            float[] points = x.ToArray();
            var velocity = new float[points.Length];
            int pairs = start.Length / Dimension;
            var logWeights = new double[pairs];
            for (int r = 0; r < points.Length / Dimension; r++)
            {
                double max = double.NegativeInfinity;
                for (int p = 0; p < pairs; p++)
                {
                    double squared = 0;
                    for (int i = 0; i < Dimension; i++)
                    {
                        double interpolant = (t * end[(p * Dimension) + i]) + ((1 - t) * start[(p * Dimension) + i]);
                        double diff = points[(r * Dimension) + i] - interpolant;
                        squared += diff * diff;
                    }

                    logWeights[p] = -squared / (2 * Bandwidth * Bandwidth);
                    max = Math.Max(max, logWeights[p]);
                }

                double total = 0;
                var mean = new double[Dimension];
                for (int p = 0; p < pairs; p++)
                {
                    double w = Math.Exp(logWeights[p] - max);
                    total += w;
                    for (int i = 0; i < Dimension; i++)
                    {
                        mean[i] += w * ((double)end[(p * Dimension) + i] - start[(p * Dimension) + i]);
                    }
                }

                for (int i = 0; i < Dimension; i++)
                {
                    velocity[(r * Dimension) + i] = (float)(mean[i] / total);
                }
            }

            destination.CopyFrom(velocity);
        }
    }
}

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Logits.Optimization;

namespace Logits.Samples.ClassicLogits;

/// <summary>
/// Target-based surrogates (Lavington et al., ICML 2023): SSO with m cheap inner steps per expensive gradient against
/// plain gradient descent (SSO with m = 1) and SGD with the same number of expensive gradients, on logistic
/// regression.
/// </summary>
internal static class SurrogateComparison
{
    public static bool Run(SampleOptions options, TextWriter output)
    {
        int n = options.Quick ? 200 : 500;
        const int d = 20;
        int cap = options.Quick ? 2000 : 5000;
        var random = new Random(options.Seed + 7);
        output.WriteLine();
        output.WriteLine($"## SSO vs gradient descent: full-batch logistic regression, N = {n}, d = {d}, mean loss, η = 4N = 1/L, inner step η/λ_max(XᵀX)");
        bool ok = true;
        bool monotoneEverywhere = true;
        var clock = Stopwatch.StartNew();
        foreach (bool scaled in new[] { false, true })
        {
            var (features, labels) = Problem(random, n, d, scaled);
            var model = new LinearTargetModel(features, d, 1);
            var rows = Enumerable.Range(0, n).ToArray();
            double eta = n / LossSmoothness.BinaryLogistic;
            double lambda = model.LargestGramEigenvalue(rows);
            TargetLossOracle oracle = (r, z, g) => TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g);
            double optimum = Optimum(model, oracle, rows, eta, labels);
            int[] innerSteps = scaled
                ? (options.Quick ? new[] { 1, 5, 20, 100 } : new[] { 1, 5, 20, 100, 1000 })
                : (options.Quick ? new[] { 1, 2, 5, 20 } : new[] { 1, 2, 5, 20 });
            string design = scaled ? "columns scaled by logspace(0, 1.5)" : "isotropic columns";
            output.WriteLine();
            output.WriteLine($"### {design}: F* = {optimum:F6}");
            output.WriteLine("| inner steps m | outer iterations to F − F* < 1e-4 | monotone |");
            output.WriteLine("|---|---|---|");
            var counts = new List<int>();
            var series = new List<Charts.Series>();
            foreach (int m in innerSteps)
            {
                var sso = new SsoOptimizer(eta, SsoInnerSolver.GradientDescent(eta / lambda, m));
                var theta = new double[d];
                double last = Loss(model, rows, labels, theta);
                var gaps = new List<double> { last - optimum };
                bool monotone = true;
                int outer = 0;
                while (last - optimum >= 1e-4 && outer < cap)
                {
                    sso.Step(model, oracle, rows, theta);
                    double now = Loss(model, rows, labels, theta);
                    monotone &= now <= last + 1e-15;
                    last = now;
                    gaps.Add(now - optimum);
                    outer++;
                }

                bool reached = last - optimum < 1e-4;
                counts.Add(reached ? outer : int.MaxValue);
                monotoneEverywhere &= monotone;
                output.WriteLine($"| {m}{(m == 1 ? " (= gradient descent)" : string.Empty)} | {(reached ? outer.ToString(CultureInfo.InvariantCulture) : $"not within {cap}")} | {(monotone ? "yes" : "NO")} |");
                // Plotted from t = 1 on a log axis: the gap after t expensive gradients.
                series.Add(new Charts.Series(m == 1 ? "m = 1 (gradient descent)" : $"SSO, m = {m}", Enumerable.Range(1, gaps.Count - 1).Select(t => (double)t).ToArray(), gaps.Skip(1).ToArray()));
                if (clock.Elapsed.TotalSeconds > 30)
                {
                    output.WriteLine($"   ({clock.Elapsed.TotalSeconds:F0} s elapsed)");
                }
            }

            bool nonIncreasing = counts.Zip(counts.Skip(1), (a, b) => b <= a).All(x => x);
            ok &= Check(output, $"outer iterations are non-increasing in m ({design})", nonIncreasing);
            Charts.Lines(
                Path.Combine(options.OutputDirectory, scaled ? "sso-full-batch-scaled.png" : "sso-full-batch.png"),
                $"SSO vs gradient descent, full batch, {design}",
                "outer iteration (one expensive gradient each)",
                "F − F*",
                series,
                logX: true,
                logY: true,
                legend: ScottPlot.Alignment.LowerLeft);
        }

        ok &= Check(output, "the loss never increases with η ≤ 1/L (every full-batch run)", monotoneEverywhere);
        ok &= Check(output, "SSO with m = 1 reproduces gradient descent exactly", MatchesGradientDescent(random));
        ok &= Stochastic(options, output, random);
        return ok;
    }

    /// <summary>Minibatches of 25 with a decreasing η_t = 4B/(1 + t/100): SSO with m inner steps against SGD (m = 1), the same number of expensive gradients.</summary>
    private static bool Stochastic(SampleOptions options, TextWriter output, Random random)
    {
        int n = options.Quick ? 200 : 500;
        const int d = 20, batch = 25;
        int outerIterations = options.Quick ? 300 : 1500;
        var (features, labels) = Problem(random, n, d, scaled: false);
        var model = new LinearTargetModel(features, d, 1);
        var all = Enumerable.Range(0, n).ToArray();
        TargetLossOracle oracle = (r, z, g) => TargetLoss.BinaryLogistic(z, r.ToArray().Select(i => labels[i]).ToArray(), SurrogateReduction.Mean, g);
        double optimum = Optimum(model, (r, z, g) => TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g), all, n / LossSmoothness.BinaryLogistic, labels);
        output.WriteLine();
        output.WriteLine($"### Stochastic: batches of {batch}, η_t = 4B/(1 + t/100), inner step η_t/λ_max(X_BᵀX_B), {outerIterations} expensive gradients each");
        output.WriteLine("| inner steps m | F − F* after 1/3 of the budget | after 2/3 | at the end |");
        output.WriteLine("|---|---|---|---|");
        var series = new List<Charts.Series>();
        foreach (int m in new[] { 1, 5, 20 })
        {
            var stream = new Random(options.Seed + 99); // the same batches for every m
            var theta = new double[d];
            var xs = new List<double>();
            var gaps = new List<double>();
            var rows = new int[batch];
            for (int t = 0; t < outerIterations; t++)
            {
                for (int i = 0; i < batch; i++)
                {
                    rows[i] = stream.Next(n);
                }

                double eta = 4.0 * batch / (1 + (t / 100.0));
                double lambda = model.LargestGramEigenvalue(rows);
                new SsoOptimizer(eta, SsoInnerSolver.GradientDescent(eta / lambda, m)).Step(model, oracle, rows, theta);
                if ((t + 1) % 10 == 0)
                {
                    xs.Add(t + 1);
                    gaps.Add(Loss(model, all, labels, theta) - optimum);
                }
            }

            int third = gaps.Count / 3;
            output.WriteLine($"| {m}{(m == 1 ? " (= SGD)" : string.Empty)} | {gaps[third - 1]:G3} | {gaps[(2 * third) - 1]:G3} | {gaps[^1]:G3} |");
            series.Add(new Charts.Series(m == 1 ? "SGD (SSO, m = 1)" : $"SSO, m = {m}", xs, gaps));
        }

        Charts.Lines(Path.Combine(options.OutputDirectory, "sso-stochastic.png"), $"SSO vs SGD, batches of {batch}, decreasing η_t", "outer iteration (one expensive gradient each)", "F − F*", series, logY: true);
        output.WriteLine("(No check here: in the stochastic regime many inner steps can overfit each batch; the table reports what happened.)");
        return true;
    }

    private static bool MatchesGradientDescent(Random random)
    {
        const int n = 60, d = 5;
        var (features, labels) = Problem(random, n, d, scaled: false);
        var model = new LinearTargetModel(features, d, 1);
        var rows = Enumerable.Range(0, n).ToArray();
        TargetLossOracle oracle = (r, z, g) => TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g);
        var sso = new SsoOptimizer(n / LossSmoothness.BinaryLogistic, SsoInnerSolver.GradientDescent(0.5, 1));
        var a = new double[d];
        var b = new double[d];
        var z = new double[n];
        var g = new double[n];
        for (int t = 0; t < 50; t++)
        {
            sso.Step(model, oracle, rows, a);
            model.Targets(b, rows, z);
            TargetLoss.BinaryLogistic(z, labels, SurrogateReduction.Mean, g);
            for (int j = 0; j < d; j++)
            {
                double gradient = 0;
                for (int i = 0; i < n; i++)
                {
                    gradient += features[(i * d) + j] * g[i];
                }

                b[j] -= 0.5 * gradient;
            }
        }

        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max() <= 1e-12;
    }

    private static double Optimum(LinearTargetModel model, TargetLossOracle oracle, int[] rows, double eta, int[] labels)
    {
        // Exact SSO steps: majorisation-minimisation whose rate does not depend on the conditioning of X.
        var theta = new double[model.ParameterCount];
        var exact = new SsoOptimizer(eta, SsoInnerSolver.Exact);
        double previous = double.PositiveInfinity;
        for (int t = 0; t < 20_000; t++)
        {
            exact.Step(model, oracle, rows, theta);
            double now = Loss(model, rows, labels, theta);
            if (previous - now < 1e-15)
            {
                return now;
            }

            previous = now;
        }

        return previous;
    }

    private static double Loss(LinearTargetModel model, int[] rows, int[] labels, double[] theta)
    {
        var z = new double[rows.Length];
        model.Targets(theta, rows, z);
        return TargetLoss.BinaryLogistic(z, rows.Select(r => labels[r]).ToArray(), SurrogateReduction.Mean);
    }

    /// <summary>Gaussian features (optionally column j scaled by 10^{1.5·j/(d−1)}) and labels from a noisy linear rule, so the data are not separable.</summary>
    private static (double[] Features, int[] Labels) Problem(Random random, int n, int d, bool scaled)
    {
        var truth = Enumerable.Range(0, d).Select(_ => Gaussian.Next(random)).ToArray();
        var features = new double[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            double score = 0;
            for (int j = 0; j < d; j++)
            {
                double x = Gaussian.Next(random);
                score += x * truth[j] / Math.Sqrt(d);
                features[(i * d) + j] = scaled ? x * Math.Pow(10, 1.5 * j / (d - 1)) : x;
            }

            labels[i] = score + Gaussian.Next(random) > 0 ? 1 : -1;
        }

        return (features, labels);
    }

    private static bool Check(TextWriter output, string what, bool met)
    {
        output.WriteLine($"check: {what}: {(met ? "met" : "NOT met")}");
        return met;
    }
}

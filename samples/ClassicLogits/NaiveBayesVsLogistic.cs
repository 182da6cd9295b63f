using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Logits.Classification;

namespace Logits.Samples.ClassicLogits;

/// <summary>
/// Sample efficiency of the pooled-variance naive Bayes head against L2-regularised logistic regression on the
/// synthetic "easy" generator of Zheng et al. (ICML 2023): the training size m* at which each comes within 0.01 of the
/// Bayes error, by dimension n.
/// </summary>
internal static class NaiveBayesVsLogistic
{
    private static readonly int[] TrainingSizes = { 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024 };

    public static bool Run(SampleOptions options, TextWriter output)
    {
        int[] dimensions = options.Quick ? new[] { 20, 100 } : new[] { 10, 20, 50, 100, 200 };
        int repeats = options.Quick ? 4 : 10;
        int testPoints = options.Quick ? 4000 : 10_000;
        output.WriteLine();
        output.WriteLine($"## Naive Bayes vs logistic regression (K = 2, {repeats} repeats per m, {testPoints} test points)");
        output.WriteLine("Generator: class means −𝟙 and +𝟙, covariance diag(n,…,n,1,…,1) with ⌊n/2⌋ noisy features; labels uniform.");
        output.WriteLine("Comparator: L2 logistic regression, λ = 1/(C·m), C = 1, intercept unpenalised, Newton to ‖∇‖ ≤ 1e-8.");
        var random = new Random(options.Seed);
        var starNb = new Dictionary<int, int?>();
        var starLr = new Dictionary<int, int?>();
        var series = new List<Charts.Series>();
        var csv = new StringBuilder("n,m,error_nb,error_lr,bayes\n");
        var clock = Stopwatch.StartNew();
        foreach (int n in dimensions)
        {
            double bayes = BayesError(n);
            var errorNb = new double[TrainingSizes.Length];
            var errorLr = new double[TrainingSizes.Length];
            for (int repeat = 0; repeat < repeats; repeat++)
            {
                var (testX, testY) = Draw(random, n, testPoints);
                for (int s = 0; s < TrainingSizes.Length; s++)
                {
                    int m = TrainingSizes[s];
                    var (x, y) = DrawWithBothClasses(random, n, m);
                    var head = GaussianNaiveBayesHead.Fit(x, y, 2).ToLinear();
                    var signs = y.Select(v => v == 1 ? 1 : -1).ToArray();
                    var theta = RegularizedLogisticRegression.Fit(x, signs, n);
                    int wrongNb = 0, wrongLr = 0;
                    for (int r = 0; r < testPoints; r++)
                    {
                        var point = testX.AsSpan(r * n, n);
                        wrongNb += head.Predict(point) != testY[r] ? 1 : 0;
                        wrongLr += RegularizedLogisticRegression.Predict(theta, point) != testY[r] ? 1 : 0;
                    }

                    errorNb[s] += (double)wrongNb / testPoints / repeats;
                    errorLr[s] += (double)wrongLr / testPoints / repeats;
                }
            }

            starNb[n] = FirstWithin(errorNb, bayes + 0.01);
            starLr[n] = FirstWithin(errorLr, bayes + 0.01);
            output.WriteLine();
            output.WriteLine($"### n = {n}: Bayes error {bayes:G4}; m*(NB) = {Format(starNb[n])}, m*(LR) = {Format(starLr[n])}  ({clock.Elapsed.TotalSeconds:F0} s elapsed)");
            output.WriteLine("| m | " + string.Join(" | ", TrainingSizes) + " |");
            output.WriteLine("|---|" + string.Concat(Enumerable.Repeat("---|", TrainingSizes.Length)));
            output.WriteLine("| NB | " + string.Join(" | ", errorNb.Select(e => e.ToString("F3", CultureInfo.InvariantCulture))) + " |");
            output.WriteLine("| LR | " + string.Join(" | ", errorLr.Select(e => e.ToString("F3", CultureInfo.InvariantCulture))) + " |");
            for (int s = 0; s < TrainingSizes.Length; s++)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{n},{TrainingSizes[s]},{errorNb[s]},{errorLr[s]},{bayes}\n");
            }

            var ms = TrainingSizes.Select(m => (double)m).ToArray();
            series.Add(new Charts.Series($"NB, n = {n}", ms, errorNb.Select(e => e - bayes).ToArray()));
            series.Add(new Charts.Series($"LR, n = {n}", ms, errorLr.Select(e => e - bayes).ToArray()));
        }

        output.WriteLine();
        output.WriteLine("| n | Bayes error | m*(NB) | m*(LR) |");
        output.WriteLine("|---|---|---|---|");
        foreach (int n in dimensions)
        {
            output.WriteLine($"| {n} | {BayesError(n):G4} | {Format(starNb[n])} | {Format(starLr[n])} |");
        }

        File.WriteAllText(Path.Combine(options.OutputDirectory, "naive-bayes-vs-logistic.csv"), csv.ToString());
        Charts.Lines(
            Path.Combine(options.OutputDirectory, "naive-bayes-vs-logistic.png"),
            "Naive Bayes head vs logistic regression: excess test error by training size (a curve stops at 0 errors)",
            "training examples m",
            "test error − Bayes error",
            series,
            logX: true,
            logY: true);

        // The checks of the experiment (seed-robust): NB needs fewer samples, LR's need grows with n, NB's stays small.
        bool ok = true;
        foreach (int n in dimensions.Where(d => d is 20 or 100 or 200))
        {
            ok &= Check(output, $"m*(NB) < m*(LR) at n = {n}", (starNb[n] ?? int.MaxValue) < (starLr[n] ?? int.MaxValue));
        }

        if (dimensions.Contains(20) && dimensions.Contains(200))
        {
            ok &= Check(output, "m*(LR) at n = 200 exceeds m*(LR) at n = 20", (starLr[200] ?? int.MaxValue) > (starLr[20] ?? int.MaxValue));
        }

        ok &= Check(output, "m*(NB) ≤ 32 for every n", dimensions.All(n => starNb[n] is <= 32));
        return ok;
    }

    /// <summary>The Bayes error Φ(−Δ/2), Δ² = 4·(⌊n/2⌋/n + n − ⌊n/2⌋).</summary>
    public static double BayesError(int n)
    {
        int noisy = n / 2;
        double delta = Math.Sqrt(4 * (((double)noisy / n) + (n - noisy)));
        return Gaussian.LowerTail(delta / 2);
    }

    private static bool Check(TextWriter output, string what, bool met)
    {
        output.WriteLine($"check: {what}: {(met ? "met" : "NOT met")}");
        return met;
    }

    private static int? FirstWithin(double[] errors, double threshold)
    {
        for (int s = 0; s < errors.Length; s++)
        {
            if (errors[s] <= threshold)
            {
                return TrainingSizes[s];
            }
        }

        return null;
    }

    private static string Format(int? m) => m?.ToString(CultureInfo.InvariantCulture) ?? "> 1024";

    private static (double[] X, int[] Y) DrawWithBothClasses(Random random, int n, int m)
    {
        while (true)
        {
            var (x, y) = Draw(random, n, m);
            if (y.Contains(0) && y.Contains(1))
            {
                return (x, y);
            }
        }
    }

    /// <summary>m labelled examples: y uniform in {0, 1}; x_j = μ_{y,j} + √var_j·N(0, 1), μ = ∓1, var = n for the first ⌊n/2⌋ features, else 1.</summary>
    private static (double[] X, int[] Y) Draw(Random random, int n, int m)
    {
        var x = new double[m * n];
        var y = new int[m];
        double noisyScale = Math.Sqrt(n);
        int noisy = n / 2;
        for (int r = 0; r < m; r++)
        {
            y[r] = random.Next(2);
            double mean = y[r] == 0 ? -1 : 1;
            for (int j = 0; j < n; j++)
            {
                x[(r * n) + j] = mean + ((j < noisy ? noisyScale : 1) * Gaussian.Next(random));
            }
        }

        return (x, y);
    }
}

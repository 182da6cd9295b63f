using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Logits.Optimization;

namespace Logits.Samples.ClassicLogits;

/// <summary>
/// Large-step logistic regression and the perceptrons (Tyurin, arXiv 2412.08424): iterations to separate the
/// worst-case dataset of Theorem 5.1, the paper's Table 1 (n = 1000) among them, printed and checked; the loss of LR+GD
/// on the two-point dataset of Theorem 4.1; and iterations against n.
/// </summary>
internal static class LargeStepTable
{
    private static readonly (string Name, SeparationMethod Method, double Gamma)[] Columns =
    {
        ("LR+GD γ=100", SeparationMethod.GradientDescent, 100),
        ("LR+GD γ=10⁶", SeparationMethod.GradientDescent, 1e6),
        ("Batch perceptron", SeparationMethod.BatchPerceptron, 1),
        ("Norm. LR+GD γ=100", SeparationMethod.NormalizedGradientDescent, 100),
        ("Norm. LR+GD γ=10", SeparationMethod.NormalizedGradientDescent, 10),
        ("Norm. LR+GD γ=1", SeparationMethod.NormalizedGradientDescent, 1),
        ("Norm. LR+GD γ=0.1", SeparationMethod.NormalizedGradientDescent, 0.1),
        ("Norm. batch perceptron", SeparationMethod.NormalizedBatchPerceptron, 1),
    };

    // The expected counts: the n = 1000 row holds the paper's Table 1 (columns 1, 4–7); the rest are reproductions.
    private static readonly Dictionary<int, int[]> Expected = new()
    {
        [10] = new[] { 4, 4, 4, 2, 2, 7, 60, 2 },
        [100] = new[] { 31, 31, 31, 2, 2, 11, 110, 2 },
        [1000] = new[] { 308, 301, 301, 2, 2, 16, 157, 2 },
    };

    public static bool Run(SampleOptions options, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("## Large-step LR+GD and the perceptrons: iterations until every margin is positive (worst case of Theorem 5.1, R²/μ² = 5)");
        output.WriteLine("| n | " + string.Join(" | ", Columns.Select(c => c.Name)) + " |");
        output.WriteLine("|---|" + string.Concat(Enumerable.Repeat("---|", Columns.Length)));
        bool ok = true;
        foreach (var (n, expected) in Expected)
        {
            var data = BinaryClassificationData.WorstCase(n);
            var counts = Columns.Select(c => new LargeStepSeparation(c.Method, c.Gamma).Separate(data)).Select(r => r.Converged ? r.Iterations : -1).ToArray();
            output.WriteLine($"| {n} | " + string.Join(" | ", counts.Select((c, i) => c == expected[i] ? $"{c}" : $"{c} (expected {expected[i]})")) + " |");
            ok &= counts.SequenceEqual(expected);
        }

        output.WriteLine($"check: every count equals the paper's Table 1 (n = 1000) and the reproductions: {(ok ? "met" : "NOT met")}");

        // Iterations against n: linear for the batch perceptron and large-step LR+GD, flat for the normalised rules.
        int[] sizes = options.Quick ? new[] { 10, 30, 100, 300, 1000 } : new[] { 10, 20, 50, 100, 200, 500, 1000, 2000, 5000 };
        var series = Columns.Where((_, i) => i is 0 or 2 or 5 or 6 or 7).Select(c =>
        {
            var its = sizes.Select(n => (double)new LargeStepSeparation(c.Method, c.Gamma).Separate(BinaryClassificationData.WorstCase(n)).Iterations).ToArray();
            return new Charts.Series(c.Name, sizes.Select(n => (double)n).ToArray(), its);
        }).ToList();
        series.Add(new Charts.Series("bound n·R²/μ² (batch perceptron)", sizes.Select(n => (double)n).ToArray(), sizes.Select(n => 5.0 * n).ToArray()));
        Charts.Lines(Path.Combine(options.OutputDirectory, "perceptron-iterations.png"), "Iterations to separate the worst-case dataset (Theorem 5.1)", "examples n", "iterations", series, logX: true, logY: true, legend: ScottPlot.Alignment.UpperLeft);

        // High loss can mean fast convergence: LR+GD on the two points of Theorem 4.1.
        var twoPoints = new BinaryClassificationData(new double[] { 1, -1, -1, -4 }, new[] { 1, -1 });
        output.WriteLine();
        output.WriteLine("Loss f(θ_t) of LR+GD on the two points of Theorem 4.1 (a₁ = (1, −1), y₁ = +1; a₂ = (−1, −4), y₂ = −1):");
        output.WriteLine("| γ | t = 1 | t = 2 | t = 3 | t = 4 | separates at t |");
        output.WriteLine("|---|---|---|---|---|---|");
        var lossSeries = new List<Charts.Series>();
        foreach (double gamma in new[] { 1.0, 10, 100 })
        {
            var method = new LargeStepSeparation(SeparationMethod.GradientDescent, gamma);
            var theta = new double[2];
            var losses = new List<double>();
            for (int t = 0; t < 12; t++)
            {
                method.Step(twoPoints, theta, t, theta);
                losses.Add(twoPoints.Loss(theta));
            }

            output.WriteLine($"| {gamma} | {string.Join(" | ", losses.Take(4).Select(l => l.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))} | {method.Separate(twoPoints).Iterations} |");
            lossSeries.Add(new Charts.Series($"LR+GD, γ = {gamma}", Enumerable.Range(1, losses.Count).Select(t => (double)t).ToArray(), losses));
        }

        Charts.Lines(Path.Combine(options.OutputDirectory, "perceptron-two-point-loss.png"), "Logistic loss of LR+GD on the dataset of Theorem 4.1", "iteration t", "f(θ_t)", lossSeries, logY: true);
        return ok;
    }
}

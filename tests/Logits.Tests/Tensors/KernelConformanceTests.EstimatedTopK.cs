using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// <see cref="ILogitKernels.SampleEstimatedTopK"/> (Mirostat 1.0's selection) against a float64 reference: every shape of
/// <see cref="LogitData"/>, removed entries, several <c>μ</c>, <c>m</c> and uniforms, invalid input and arguments.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>
    /// The reference: the Zipf estimate by its formula over the finite logits sorted descending, the cutoff, then the draw of
    /// <see cref="ReferenceWithinSurprise"/> with that cutoff; the margin also covers <c>k</c>'s distance to an integer.
    /// </summary>
    private static (int Token, double Probability, double Margin) ReferenceEstimatedTopK(float[] row, double mu, int m, int nVocab, double u)
    {
        var sorted = row.Where(float.IsFinite).Select(v => (double)v).OrderByDescending(v => v).ToArray();
        double max = sorted[0];
        double lse = max + Math.Log(sorted.Sum(z => Math.Exp(z - max)));
        double numerator = 0, denominator = 0;
        bool usable = false;
        for (int i = 1; i < Math.Min(m, sorted.Length); i++)
        {
            double qi = Math.Exp(sorted[i - 1] - lse), qNext = Math.Exp(sorted[i] - lse);
            if (qi > 0 && qNext > 0)
            {
                double t = Math.Log((i + 1.0) / i);
                numerator += t * Math.Log(qi / qNext);
                denominator += t * t;
                usable = true;
            }
        }

        double k = double.NaN;
        double sHat = numerator / denominator;
        if (usable && sHat > 0)
        {
            double epsilon = sHat - 1;
            double baseK = Math.Abs(epsilon) < 1e-6 ? Math.Pow(2, mu) / Math.Log(nVocab) : epsilon * Math.Pow(2, mu) / (1 - Math.Pow(nVocab, -epsilon));
            k = Math.Pow(baseK, 1 / sHat);
        }

        // An estimate near an integer may floor either way; the fallback |F| is exact.
        double integerMargin = double.IsFinite(k) ? Math.Abs(k - Math.Round(k)) / Math.Max(1, k) : double.PositiveInfinity;
        if (!double.IsFinite(k))
        {
            k = sorted.Length;
        }

        int kept = (int)Math.Clamp(Math.Floor(k), 1, sorted.Length);
        double cutoff = sorted[kept - 1];

        // The draw: the surprise limit -inf gives the maximum as cutoff; recompute with the estimate's cutoff instead.
        var weights = row.Select(z => z >= cutoff ? Math.Exp(z - max) : 0).ToArray();
        double sum = weights.Sum();
        double target = u * sum, cumulative = 0, margin = integerMargin;
        int last = -1;
        for (int i = 0; i < row.Length; i++)
        {
            if (weights[i] <= 0)
            {
                continue;
            }

            cumulative += weights[i];
            last = i;
            margin = Math.Min(margin, Math.Abs(cumulative - target) / sum);
            if (target < cumulative)
            {
                return (i, weights[i] / sum, margin);
            }
        }

        return (last, weights[last] / sum, margin);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void SampleEstimatedTopK_matches_reference(int vocab)
    {
        double[] mus = { 10, 4, 6, 0.5, 16, -3 };
        double[] us = { 0, 0.3, 0.75, 0.999999 };
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 85);
            for (int r = 1; r < rows; r += 2)
            {
                for (int i = 0; i < vocab; i += 4)
                {
                    data[(r * vocab) + i] = float.NegativeInfinity;
                }

                data[(r * vocab) + vocab - 1] = 0.5f;
            }

            foreach (int m in new[] { 2, 100 })
            {
                var mu = Enumerable.Range(0, rows).Select(r => mus[(r + vocab + m) % mus.Length]).ToArray();
                var u = Enumerable.Range(0, rows).Select(r => us[(r + (vocab / 3)) % us.Length]).ToArray();
                var tokens = new int[rows];
                var probabilities = new double[rows];
                using var x = Create(data, rows, vocab);
                x.Kernels.SampleEstimatedTopK(x, mu, m, 32000, u, tokens, probabilities);
                for (int r = 0; r < rows; r++)
                {
                    var (token, probability, margin) = ReferenceEstimatedTopK(LogitData.Row(data, vocab, r), mu[r], m, 32000, u[r]);
                    if (margin > 1e-9)
                    {
                        tokens[r].Should().Be(token, $"rows {rows}, row {r}, mu {mu[r]}, m {m}, u {u[r]}");
                        probabilities[r].Should().BeApproximately(probability, 1e-9 * Math.Max(1, probability), $"row {r}");
                        compared++;
                    }
                }
            }
        }

        compared.Should().BePositive();
    }

    [Fact]
    public void SampleEstimatedTopK_rejects_bad_input_and_arguments()
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 86);
        data[(2 * vocab) + 7] = float.PositiveInfinity;
        var mu = new[] { 5.0, 5.0, 5.0 };
        var uniforms = new[] { 0.5, 0.5, 0.5 };
        var tokens = new int[rows];
        var probabilities = new double[rows];
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.SampleEstimatedTopK(x, mu, 100, 100, uniforms, tokens, probabilities)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((2, 7, "input"));

        var empty = LogitData.Random(rows, vocab, 87);
        Array.Fill(empty, float.NegativeInfinity, vocab, vocab);
        using var withEmpty = Create(empty, rows, vocab);
        var noViable = FluentActions.Invoking(() => withEmpty.Kernels.SampleEstimatedTopK(withEmpty, mu, 100, 100, uniforms, tokens, probabilities)).Should().Throw<NoViableTokenException>().Which;
        (noViable.Row, noViable.Stage).Should().Be((1, "mirostat"));

        using var valid = Create(LogitData.Random(rows, vocab, 88), rows, vocab);
        void Run(double[] limits, int m, int n, double[] u) => valid.Kernels.SampleEstimatedTopK(valid, limits, m, n, u, tokens, probabilities);
        FluentActions.Invoking(() => Run(new[] { 5.0, double.NaN, 5.0 }, 100, 100, uniforms)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("mu");
        FluentActions.Invoking(() => Run(new[] { 5.0, 5.0 }, 100, 100, uniforms)).Should().Throw<ArgumentException>().WithParameterName("mu");
        FluentActions.Invoking(() => Run(mu, 1, 100, uniforms)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("m");
        FluentActions.Invoking(() => Run(mu, 100, 0, uniforms)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("nVocab");
        FluentActions.Invoking(() => Run(mu, 100, 100, new[] { 0.5, 1.0, 0.5 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("uniforms");
        FluentActions.Invoking(() => valid.Kernels.SampleEstimatedTopK(valid, mu, 100, 100, uniforms, new int[2], probabilities)).Should().Throw<ArgumentException>().WithParameterName("destination");
    }
}

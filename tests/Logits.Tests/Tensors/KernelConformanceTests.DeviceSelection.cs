using System;
using System.Linq;
using FluentAssertions;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The selection kernels whose tokens cross to the host in one read (<see cref="ILogitKernels.SampleGumbel"/>,
/// <see cref="ILogitKernels.SampleWithinSurprise"/>) against float64 references with the same seeded streams: every shape
/// of <see cref="LogitData"/>, removed tokens and ties, the streams' positions afterwards, invalid input and arguments.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>The Gumbel-max reference of one row: token, margin to the runner-up score, and the number of draws.</summary>
    private static (int Token, double Margin, int Draws) ReferenceGumbel(float[] row, IRandomSource stream)
    {
        int best = -1, draws = 0;
        double bestScore = double.NegativeInfinity, second = double.NegativeInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            if (float.IsNegativeInfinity(row[i]))
            {
                continue;
            }

            draws++;
            double score = row[i] - Math.Log(-Math.Log(stream.NextOpenDouble()));
            if (best < 0 || score > bestScore)
            {
                second = bestScore;
                best = i;
                bestScore = score;
            }
            else
            {
                second = Math.Max(second, score);
            }
        }

        return (best, (bestScore - second) / Math.Max(1, Math.Abs(bestScore)), draws);
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void SampleGumbel_matches_reference_and_advances_each_stream_by_its_finite_count(int vocab)
    {
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 41);
            for (int r = 0; r < rows; r++)
            {
                // Removed tokens (every third in odd rows) and a tie with the maximum in even rows.
                for (int i = r % 2 == 1 ? 0 : vocab; i < vocab; i += 3)
                {
                    data[(r * vocab) + i] = float.NegativeInfinity;
                }

                if (data.AsSpan(r * vocab, vocab).ToArray().All(float.IsNegativeInfinity))
                {
                    data[(r * vocab) + vocab - 1] = 1f; // a single finite entry was removed: keep one
                }

                if (r % 2 == 0 && vocab > 1)
                {
                    var row = data.AsSpan(r * vocab, vocab);
                    row[vocab - 1] = row[0] = row.ToArray().Max();
                }
            }

            var streams = Enumerable.Range(0, rows).Select(r => (IRandomSource)Xoshiro256StarStar.ForRow(77, r)).ToArray();
            var references = Enumerable.Range(0, rows).Select(r => Xoshiro256StarStar.ForRow(77, r)).ToArray();
            var tokens = new int[rows];
            using var x = Create(data, rows, vocab);
            x.Kernels.SampleGumbel(x, streams, tokens);
            for (int r = 0; r < rows; r++)
            {
                var (token, margin, _) = ReferenceGumbel(LogitData.Row(data, vocab, r), references[r]);
                if (margin > 1e-12)
                {
                    tokens[r].Should().Be(token, $"rows {rows}, row {r}");
                    compared++;
                }

                streams[r].NextUInt64().Should().Be(references[r].NextUInt64(), $"row {r}'s stream advances by its finite count");
            }
        }

        compared.Should().BePositive();
    }

    [Fact]
    public void SampleGumbel_rejects_bad_input_and_arguments()
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 42);
        data[vocab + 4] = float.NaN;
        var streams = new IRandomSource[] { new Xoshiro256StarStar(1), new Xoshiro256StarStar(2), new Xoshiro256StarStar(3) };
        var tokens = new int[rows];
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.SampleGumbel(x, streams, tokens)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 4, "input"));

        var empty = LogitData.Random(rows, vocab, 43);
        Array.Fill(empty, float.NegativeInfinity, 2 * vocab, vocab);
        using var withEmpty = Create(empty, rows, vocab);
        var noViable = FluentActions.Invoking(() => withEmpty.Kernels.SampleGumbel(withEmpty, streams, tokens)).Should().Throw<NoViableTokenException>().Which;
        (noViable.Row, noViable.Stage).Should().Be((2, "gumbel"));

        using var valid = Create(LogitData.Random(rows, vocab, 44), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.SampleGumbel(valid, streams[..2], tokens)).Should().Throw<ArgumentException>().WithParameterName("streams");
        FluentActions.Invoking(() => valid.Kernels.SampleGumbel(valid, null!, tokens)).Should().Throw<ArgumentNullException>().WithParameterName("streams");
        FluentActions.Invoking(() => valid.Kernels.SampleGumbel(valid, new[] { streams[0], null!, streams[2] }, tokens)).Should().Throw<ArgumentNullException>().WithParameterName("streams");
        FluentActions.Invoking(() => valid.Kernels.SampleGumbel(valid, streams, new int[2])).Should().Throw<ArgumentException>().WithParameterName("destination");

        // More streams than rows: the first Rows are used.
        valid.Kernels.SampleGumbel(valid, streams.Append(new Xoshiro256StarStar(4)).ToArray(), tokens);
        tokens.Should().OnlyContain(t => t >= 0 && t < vocab);
    }

    /// <summary>The Mirostat 2.0 reference of one row in float64: token, probability, and the distance of u·S to a boundary.</summary>
    private static (int Token, double Probability, double Margin) ReferenceWithinSurprise(float[] row, double maxSurprise, double u)
    {
        double m = row.Max();
        double lse = m + Math.Log(row.Sum(z => Math.Exp(z - m)));
        var within = row.Where(z => !float.IsNegativeInfinity(z) && -(z - lse) / Math.Log(2) <= maxSurprise).ToArray();
        double cutoff = within.Length == 0 ? m : within.Min();
        var weights = row.Select(z => z >= cutoff ? Math.Exp(z - m) : 0).ToArray();
        double sum = weights.Sum();
        double target = u * sum, cumulative = 0, margin = double.PositiveInfinity;
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
    public void SampleWithinSurprise_matches_reference(int vocab)
    {
        double[] limits = { 0.5, 3, 6, 10, -1, double.PositiveInfinity, double.NegativeInfinity };
        double[] us = { 0, 0.3, 0.75, 0.999999 };
        int compared = 0;
        foreach (int rows in RowsFor(vocab))
        {
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 45);
            for (int r = 1; r < rows; r += 2)
            {
                for (int i = 0; i < vocab; i += 4)
                {
                    data[(r * vocab) + i] = float.NegativeInfinity;
                }

                data[(r * vocab) + vocab - 1] = 0.5f;
            }

            var limit = Enumerable.Range(0, rows).Select(r => limits[(r + vocab) % limits.Length]).ToArray();
            var u = Enumerable.Range(0, rows).Select(r => us[(r + (vocab / 3)) % us.Length]).ToArray();
            var tokens = new int[rows];
            var probabilities = new double[rows];
            using var x = Create(data, rows, vocab);
            x.Kernels.SampleWithinSurprise(x, limit, u, tokens, probabilities);
            for (int r = 0; r < rows; r++)
            {
                var (token, probability, margin) = ReferenceWithinSurprise(LogitData.Row(data, vocab, r), limit[r], u[r]);
                if (margin > 1e-9)
                {
                    tokens[r].Should().Be(token, $"rows {rows}, row {r}, limit {limit[r]}, u {u[r]}");
                    probabilities[r].Should().BeApproximately(probability, 1e-9 * Math.Max(1, probability), $"row {r}");
                    compared++;
                }
            }
        }

        compared.Should().BePositive();
    }

    [Fact]
    public void SampleWithinSurprise_rejects_bad_input_and_arguments()
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 46);
        data[(2 * vocab) + 7] = float.PositiveInfinity;
        var limits = new[] { 5.0, 5.0, 5.0 };
        var uniforms = new[] { 0.5, 0.5, 0.5 };
        var tokens = new int[rows];
        var probabilities = new double[rows];
        using var x = Create(data, rows, vocab);
        var error = FluentActions.Invoking(() => x.Kernels.SampleWithinSurprise(x, limits, uniforms, tokens, probabilities)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((2, 7, "input"));

        var empty = LogitData.Random(rows, vocab, 47);
        Array.Fill(empty, float.NegativeInfinity, vocab, vocab);
        using var withEmpty = Create(empty, rows, vocab);
        var noViable = FluentActions.Invoking(() => withEmpty.Kernels.SampleWithinSurprise(withEmpty, limits, uniforms, tokens, probabilities)).Should().Throw<NoViableTokenException>().Which;
        (noViable.Row, noViable.Stage).Should().Be((1, "mirostat"));

        using var valid = Create(LogitData.Random(rows, vocab, 48), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.SampleWithinSurprise(valid, new[] { 5.0, double.NaN, 5.0 }, uniforms, tokens, probabilities)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxSurprise");
        FluentActions.Invoking(() => valid.Kernels.SampleWithinSurprise(valid, limits, new[] { 0.5, 1.0, 0.5 }, tokens, probabilities)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("uniforms");
        FluentActions.Invoking(() => valid.Kernels.SampleWithinSurprise(valid, limits, new[] { 0.5, -0.1, 0.5 }, tokens, probabilities)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("uniforms");
        FluentActions.Invoking(() => valid.Kernels.SampleWithinSurprise(valid, limits.AsSpan(0, 2), uniforms, tokens, probabilities)).Should().Throw<ArgumentException>().WithParameterName("maxSurprise");
        FluentActions.Invoking(() => valid.Kernels.SampleWithinSurprise(valid, limits, uniforms, tokens, new double[2])).Should().Throw<ArgumentException>().WithParameterName("probabilities");
    }
}

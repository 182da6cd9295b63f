using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The kernels that keep a warping or forcing decision on the backend (<see cref="ILogitKernels.MaskExceptArgMax"/>)
/// against references: every shape of <see cref="LogitData"/>, ties, signed zeros, special rows, all-<c>-∞</c> rows,
/// invalid input and arguments.
/// </summary>
public abstract partial class KernelConformanceTests
{
    /// <summary>The reference of <see cref="ILogitKernels.MaskExceptArgMax"/> for one row: the first index holding the maximum.</summary>
    private static float[] ReferenceMaskExceptArgMax(float[] row, bool selected)
    {
        var result = (float[])row.Clone();
        if (!selected || !row.Any(float.IsFinite))
        {
            return result;
        }

        float max = row.Where(float.IsFinite).Max();
        int token = Array.FindIndex(row, v => v == max);
        Array.Fill(result, float.NegativeInfinity);
        result[token] = row[token];
        return result;
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void MaskExceptArgMax_matches_reference(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            var random = new Random(Seed(rows, vocab) + 61);
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab) + 61);
            var selected = Enumerable.Range(0, rows).Select(r => r % 3 != 2).ToArray();
            for (int r = 0; r < rows; r++)
            {
                var row = data.AsSpan(r * vocab, vocab);
                switch (r % 4)
                {
                    case 1:
                        row.Fill(float.NegativeInfinity);
                        break;
                    case 2 when vocab > 1:
                        // A tie for the maximum: the lower index wins.
                        float max = row.ToArray().Max();
                        row[random.Next(vocab)] = max;
                        row[random.Next(vocab)] = max;
                        break;
                    case 3:
                        // Removed entries, and the maximum at the last position.
                        for (int i = 0; i < vocab; i += 2)
                        {
                            row[i] = float.NegativeInfinity;
                        }

                        row[vocab - 1] = 50f;
                        break;
                }
            }

            foreach (bool inPlace in new[] { true, false })
            {
                using var x = Create(data, rows, vocab);
                using var destination = inPlace ? null : x.CreateLike();
                x.Kernels.MaskExceptArgMax(x, selected, destination ?? x);
                var actual = (destination ?? x).ToArray();
                for (int r = 0; r < rows; r++)
                {
                    LogitData.Row(actual, vocab, r).Should().Equal(ReferenceMaskExceptArgMax(LogitData.Row(data, vocab, r), selected[r]), $"rows {rows}, row {r}, in place {inPlace}");
                }

                if (!inPlace)
                {
                    x.ToArray().Should().Equal(data, "the input is not written");
                }
            }
        }
    }

    [Fact]
    public void MaskExceptArgMax_of_special_rows_matches_reference()
    {
        // Signed zeros compare equal (-0 first keeps -0), huge values, a single finite entry.
        float[][] cases =
        {
            new[] { -1f, -0f, 0f, -2f },
            new[] { float.NegativeInfinity, 0f, -0f },
            new[] { -3e38f, 3e38f, 3e38f, float.NegativeInfinity },
            new[] { float.NegativeInfinity, float.NegativeInfinity, -7f },
            new[] { 1f },
        };
        foreach (var row in cases.Concat(SpecialRows().Select(s => s.Row)))
        {
            using var x = Create(row, 1, row.Length);
            x.Kernels.MaskExceptArgMax(x, new[] { true }, x);
            var actual = x.ToArray();
            var expected = ReferenceMaskExceptArgMax(row, true);
            actual.Should().Equal(expected, $"row [{string.Join(", ", row)}]");
            for (int i = 0; i < row.Length; i++)
            {
                // Equal compares -0 and +0 as equal: the kept zero must be the row's own.
                float.IsNegative(actual[i]).Should().Be(float.IsNegative(expected[i]), $"the sign at {i} of [{string.Join(", ", row)}]");
            }
        }
    }

    [Fact]
    public void MaskExceptArgMax_rejects_bad_input_and_arguments()
    {
        const int rows = 3, vocab = 9;
        var data = LogitData.Random(rows, vocab, 62);
        data[vocab + 6] = float.PositiveInfinity;
        data[(2 * vocab) + 1] = float.NaN;
        using var x = Create(data, rows, vocab);

        // An unselected row is checked too; the lowest bad row wins, and nothing is written.
        var error = FluentActions.Invoking(() => x.Kernels.MaskExceptArgMax(x, new[] { true, false, true }, x)).Should().Throw<InvalidLogitsException>().Which;
        (error.Row, error.TokenIndex, error.Stage).Should().Be((1, 6, "input"));
        x.ToArray().Should().Equal(data, "a failed call leaves the batch unchanged");

        using var valid = Create(LogitData.Random(rows, vocab, 63), rows, vocab);
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(valid, new[] { true, false }, valid)).Should().Throw<ArgumentException>().WithParameterName("rows");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(valid, new[] { true, false, true, true }, valid)).Should().Throw<ArgumentException>().WithParameterName("rows");
        FluentActions.Invoking(() => valid.Kernels.MaskExceptArgMax(null!, new[] { true, false, true }, valid)).Should().Throw<ArgumentNullException>().WithParameterName("x");
    }
}

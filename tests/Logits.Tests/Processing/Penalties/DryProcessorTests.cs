using System;
using System.Linq;
using CsCheck;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;
using static Logits.Tests.Processing.Penalties.PenaltyTestSupport;

namespace Logits.Tests.Processing.Penalties;

/// <summary><see cref="DryProcessor"/> against docs/algorithms/penalties.md#dry and the naive O(n²) reference, on every backend.</summary>
public abstract class DryProcessorTests
{
    /// <summary>Builds a batch of the backend under test from row-major values.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private float[] RunOne(float[] row, ILogitProcessor processor, int[] history)
    {
        using var batch = Create(row, 1, row.Length);
        return Run(batch, processor, Context(history))[0];
    }

    public static TheoryData<int[], int[], int, double> SpecCases() => new()
    {
        { new[] { 1, 2, 3, 4, 1, 2, 3 }, Array.Empty<int>(), 4, -1.4 },
        { new[] { 1, 2, 3, 4, 1, 2, 3 }, new[] { 2 }, -1, 0 },
        { new[] { 5, 5, 5, 5 }, Array.Empty<int>(), 5, -1.4 },
        { new[] { 7, 1, 2, 9, 1, 2 }, Array.Empty<int>(), 9, -0.8 },
        { new[] { 1, 2, 3, 4, 9, 1, 2, 3, 4, 9, 1, 2, 3 }, Array.Empty<int>(), 4, -22.978320 },
    };

    [Theory]
    [MemberData(nameof(SpecCases))]
    public void Spec_vectors(int[] history, int[] breakers, int token, double value)
    {
        var result = RunOne(new float[10], new DryProcessor(0.8, 1.75, 2, sequenceBreakers: breakers), history);
        var expected = new double[10];
        if (token >= 0)
        {
            expected[token] = value;
        }

        AssertRowClose(result, expected, 1e-6 / Tolerance.Relative, $"history [{string.Join(",", history)}]");
    }

    [Fact]
    public void Spec_exponent_cap_for_base_175_is_158()
    {
        new DryProcessor(0.8).MaxExponent.Should().Be(158);
        new DryProcessor(0.8, @base: 1).MaxExponent.Should().Be(int.MaxValue);
    }

    [Fact]
    public void Long_matches_are_capped_and_overflow_becomes_negative_infinity()
    {
        var history = Enumerable.Repeat(5, 300).ToArray();
        var capped = RunOne(new float[10], new DryProcessor(0.8), history);
        AssertRowClose(capped, Enumerable.Range(0, 10).Select(i => i == 5 ? -0.8 * Math.Pow(1.75, 158) : 0).ToArray(), 0, "cap");
        float.IsFinite(capped[5]).Should().BeTrue();

        var banned = RunOne(new float[10], new DryProcessor(2), history);
        banned[5].Should().Be(float.NegativeInfinity);

        var constant = RunOne(new float[10], new DryProcessor(0.8, @base: 1), history);
        AssertRowClose(constant, Enumerable.Range(0, 10).Select(i => i == 5 ? -0.8 : 0).ToArray(), 0, "base 1");
    }

    [Fact]
    public void Breaker_rules_padding_window_and_ids()
    {
        // The last token is a breaker: nothing.
        RunOne(new float[10], new DryProcessor(1, sequenceBreakers: new[] { 3 }), new[] { 1, 2, 3, 1, 2, 3 }).Should().OnlyContain(v => v == 0);

        // The following token is a breaker: that j is skipped.
        RunOne(new float[10], new DryProcessor(1, sequenceBreakers: new[] { 4 }), new[] { 1, 2, 4, 1, 2 }).Should().OnlyContain(v => v == 0);

        // Padding is removed before matching; a window of 4 sees [2, 9, 1, 2] only (L = 1 < 2).
        AssertRowClose(RunOne(new float[10], new DryProcessor(0.8), new[] { -1, 7, 1, -1, 2, 9, 1, -1, 2 }), Enumerable.Range(0, 10).Select(i => i == 9 ? -0.8 : 0).ToArray(), 0, "padding");
        RunOne(new float[10], new DryProcessor(0.8, window: 4), new[] { 7, 1, 2, 9, 1, 2 }).Should().OnlyContain(v => v == 0);

        using var batch = Create(new float[10], 1, 10);
        var id = () => new DryProcessor(0.8).Process(batch, Context(new[] { 1, 10 }));
        id.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");
        var breaker = () => new DryProcessor(0.8, sequenceBreakers: new[] { 10 }).Process(batch, Context(new[] { 1, 2 }));
        breaker.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("sequenceBreakers");
    }

    [Fact]
    public void Z_function_of_the_reversed_window_matches_the_naive_definition()
    {
        Gen.Int[0, 3].Array[1, 80].Sample(sequence =>
        {
            var z = new int[sequence.Length];
            DryProcessor.ReversedZFunction(sequence, z);
            z.Should().Equal(ReferencePenalties.NaiveZ(sequence.Reverse().ToArray()));
        }, iter: 2000);
    }

    [Theory]
    [MemberData(nameof(PenaltyTestSupport.VocabCases), MemberType = typeof(PenaltyTestSupport))]
    public void Matches_naive_reference_with_per_row_multipliers(int vocab)
    {
        foreach (int rows in RowsFor(vocab))
        {
            int seed = (vocab * 43) + rows;
            var rng = new Random(seed);
            var data = LogitData.Random(rows, vocab, seed);
            var histories = Enumerable.Range(0, rows).Select(_ => RandomHistory(rng, vocab, 80)).ToArray();
            var multipliers = Enumerable.Range(0, rows).Select(r => new[] { 0.8, 0.0, 2.0, 1e30 }[(r + seed) % 4]).ToArray();
            double @base = new[] { 1.0, 1.75, 3.0 }[rng.Next(3)];
            int allowed = rng.Next(1, 4);
            int window = new[] { -1, 5, 20 }[rng.Next(3)];
            var alphabet = histories.SelectMany(h => h).Where(t => t >= 0).Distinct().ToArray();
            var breakers = alphabet.Where(_ => rng.Next(4) == 0).ToHashSet();
            var processor = new DryProcessor(multipliers, @base, allowed, window, breakers);

            using var batch = Create(data, rows, vocab);
            var actual = Run(batch, processor, Contexts(histories));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var ids = ReferencePenalties.Window(histories[r], 0, false, window, vocab);
                var expected = ReferencePenalties.Dry(ToDouble(row), ids, multipliers[r], @base, allowed, breakers);
                AssertRowClose(actual[r], expected, 0, $"vocab {vocab}, rows {rows}, row {r}, multiplier {multipliers[r]}, base {@base}, allowed {allowed}, window {window}, breakers [{string.Join(",", breakers)}]");
            }
        }
    }

    [Fact]
    public void Property_matches_naive_reference()
    {
        var cases = Gen.Select(
            Gen.Int[0, 4].Array[0, 60],
            Gen.Int[0, 4].Array[0, 2],
            Gen.Double[0.0, 3.0],
            Gen.Double[1.0, 4.0],
            Gen.Int[1, 4],
            Gen.Float[-5f, 5f].Array[5]);

        cases.Sample((history, breakers, multiplier, @base, allowed, row) =>
        {
            var result = RunOne(row, new DryProcessor(multiplier, @base, allowed, sequenceBreakers: breakers), history);
            var expected = ReferencePenalties.Dry(ToDouble(row), history, multiplier, @base, allowed, breakers.ToHashSet());
            AssertRowClose(result, expected, 0, $"history [{string.Join(",", history)}], breakers [{string.Join(",", breakers)}]");
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void All_negative_infinity_row_passes_through_unchanged()
    {
        var data = new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 0f, 0f, 0f };
        using var batch = Create(data, 2, 3);
        var actual = Run(batch, new DryProcessor(1), Contexts(new[] { new[] { 0, 0, 0, 0 }, new[] { 0, 0, 0, 0 } }));
        actual[0].Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
        AssertRowClose(actual[1], new[] { -1.75, 0, 0 }, 0, "row 1");
    }

    [Fact]
    public void Invalid_parameters_throw_with_their_names()
    {
        foreach (double bad in new[] { -0.1, double.NaN, double.PositiveInfinity })
        {
            ((Action)(() => _ = new DryProcessor(bad))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("multiplier");
            ((Action)(() => _ = new DryProcessor(new[] { 0.8, bad }))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("multiplier");
        }

        foreach (double bad in new[] { 0.99, 0, double.NaN, double.PositiveInfinity })
        {
            ((Action)(() => _ = new DryProcessor(0.8, bad))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("base");
        }

        ((Action)(() => _ = new DryProcessor(0.8, allowedLength: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("allowedLength");
        ((Action)(() => _ = new DryProcessor(0.8, window: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("window");
        var negative = () => new DryProcessor(0.8, sequenceBreakers: new[] { 1, -1 });
        negative.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("sequenceBreakers");
    }

    [Fact]
    public void Definition_and_builder()
    {
        var processor = new DryProcessor(0.8, sequenceBreakers: new[] { 9, 3, 9 });
        processor.IsArgmaxInvariant.Should().BeFalse();
        processor.Name.Should().Be("dry");
        processor.SequenceBreakers.Should().Equal(3, 9);
        processor.Base.Should().Be(1.75);
        processor.AllowedLength.Should().Be(2);
        LogitPipeline.CreateBuilder().Dry(0.8, sequenceBreakers: new[] { 13 }).Processors.Single().Should().BeOfType<DryProcessor>();
    }
}

/// <summary>DRY on the CPU backend.</summary>
public sealed class CpuDryProcessorTests : DryProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

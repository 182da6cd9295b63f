using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Guidance;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.Tests.Processing.Constraints;
using Xunit;

namespace Logits.Tests.Processing.Guidance;

/// <summary>Unbatched classifier-free guidance (docs/algorithms/guidance.md#classifier-free-guidance) on every backend.</summary>
public abstract class ClassifierFreeGuidanceTests : ConstraintTestBase
{
    private static readonly float[] Conditional = { 1, 2, 3 };
    private static readonly float[] Unconditional = { 3, 2, 1 };

    /// <summary>Copies fixed row-major values into the batch and counts the calls.</summary>
    private sealed class FixedProvider : IUnconditionalLogitsProvider
    {
        private readonly float[] _values;

        public FixedProvider(float[] values) => _values = values;

        public int Calls { get; private set; }

        public void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
        {
            Calls++;
            destination.CopyFrom(_values);
        }
    }

    [Theory]
    [InlineData(1.5f, new[] { -3.407606, -1.407606, 0.592394 })]
    [InlineData(3f, new[] { -6.407606, -1.407606, 3.592394 })]
    [InlineData(0.5f, new[] { -1.407606, -1.407606, -1.407606 })]
    public void Spec_vectors(float scale, double[] expected)
    {
        var provider = new FixedProvider(Unconditional);
        AssertClose(RunRow(new ClassifierFreeGuidanceProcessor(scale, provider), Conditional), expected, $"CFG scale {scale}", scale: 10);
        provider.Calls.Should().Be(1);
    }

    [Theory]
    [InlineData(1f, new[] { -2.407606, -1.407606, -0.407606 })]
    [InlineData(1.5f, new[] { -3.407606, -1.407606, 0.592394 })]
    [InlineData(3f, new[] { -6.407606, -1.407606, 3.592394 })]
    [InlineData(0.5f, new[] { -1.407606, -1.407606, -1.407606 })]
    public void Plain_function_matches_the_spec_vectors(float scale, double[] expected)
    {
        var destination = new float[3];
        ClassifierFreeGuidance.Combine(Conditional, Unconditional, scale, destination);
        AssertClose(destination, expected, $"plain CFG scale {scale}", scale: 10);
    }

    [Fact]
    public void Plain_function_follows_the_non_finite_rules()
    {
        var z = new[] { NegInf, 2f, 3f, 0f };
        var uncond = new[] { 1f, 2f, NegInf, 5f };
        var destination = new float[4];
        ClassifierFreeGuidance.Combine(z, uncond, -0.5f, destination);
        AssertClose(destination, ReferenceConstraints.Cfg(z, uncond, -0.5), "plain CFG with -inf", scale: 10);
        ClassifierFreeGuidance.Combine(new[] { NegInf, NegInf }, new[] { 1f, 2f }, 2f, destination.AsSpan(0, 2));
        destination.Take(2).Should().OnlyContain(v => float.IsNegativeInfinity(v));
        FluentActions.Invoking(() => ClassifierFreeGuidance.Combine(new[] { 1f }, new[] { float.NaN }, 2f, new float[1]))
            .Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("cfg-unconditional");
        FluentActions.Invoking(() => ClassifierFreeGuidance.Combine(new[] { float.PositiveInfinity }, new[] { 1f }, 2f, new float[1]))
            .Should().Throw<InvalidLogitsException>().Which.Stage.Should().Be("input");
        FluentActions.Invoking(() => ClassifierFreeGuidance.Combine(new[] { 1f }, new[] { 1f, 2f }, 2f, new float[1]))
            .Should().Throw<ArgumentException>().Which.ParamName.Should().Be("unconditional");
        FluentActions.Invoking(() => ClassifierFreeGuidance.Combine(new[] { 1f }, new[] { 1f }, float.NaN, new float[1]))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scale");
    }

    [Fact]
    public void Scale_one_outputs_c_and_does_not_call_the_provider()
    {
        var provider = new FixedProvider(Unconditional);
        var result = RunRow(new ClassifierFreeGuidanceProcessor(1f, provider), Conditional);
        AssertClose(result, new[] { -2.407606, -1.407606, -0.407606 }, "CFG scale 1", scale: 3);
        provider.Calls.Should().Be(0);
    }

    [Fact]
    public void Non_finite_rules()
    {
        // c = -inf ⇒ -inf (token 0); u = -inf with c finite ⇒ c (token 2); otherwise the combination (token 1).
        var z = new[] { NegInf, 2f, 3f };
        var uncond = new[] { 1f, 2f, NegInf };
        var result = RunRow(new ClassifierFreeGuidanceProcessor(3f, new FixedProvider(uncond)), z);
        AssertClose(result, ReferenceConstraints.Cfg(z, uncond, 3), "CFG with -inf", scale: 10);
        result[0].Should().Be(NegInf);

        // An all -inf unconditional row leaves c.
        var all = RunRow(new ClassifierFreeGuidanceProcessor(-2f, new FixedProvider(new[] { NegInf, NegInf, NegInf })), Conditional);
        AssertClose(all, new[] { -2.407606, -1.407606, -0.407606 }, "CFG with an empty unconditional row", scale: 3);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Invalid_provider_values_throw_with_the_cfg_stage(float bad)
    {
        var provider = new FixedProvider(new[] { 1f, 2f, 3f, 1f, bad, 3f });
        var processor = new ClassifierFreeGuidanceProcessor(2f, provider);
        var error = FluentActions.Invoking(() => Run(processor, Conditional.Concat(Conditional).ToArray(), 2, 3, Contexts(2, Array.Empty<int>())))
            .Should().Throw<InvalidLogitsException>().Which;
        error.Stage.Should().Be("cfg-unconditional");
        error.Row.Should().Be(1);
        error.TokenIndex.Should().Be(1);
    }

    [Fact]
    public void Row_provider_copies_each_row()
    {
        var rows = new[] { Unconditional, new float[] { 0, 0, 0 } };
        var seen = new List<int>();
        var provider = UnconditionalLogitsProvider.FromRows((row, context) =>
        {
            seen.Add(context.Row);
            return rows[row];
        });
        var result = Run(new ClassifierFreeGuidanceProcessor(1.5f, provider), Conditional.Concat(Conditional).ToArray(), 2, 3, Contexts(2, Array.Empty<int>()));
        seen.Should().Equal(0, 1);
        AssertRow(result, 3, 0, new[] { -3.407606, -1.407606, 0.592394 }, "row provider", 10);
        AssertRow(result, 3, 1, ReferenceConstraints.Cfg(Conditional, rows[1], 1.5), "row provider", 10);

        var wrong = UnconditionalLogitsProvider.FromRows((_, _) => new float[2]);
        FluentActions.Invoking(() => RunRow(new ClassifierFreeGuidanceProcessor(2f, wrong), Conditional))
            .Should().Throw<InvalidOperationException>().WithMessage("*row 0*");
    }

    [Theory]
    [MemberData(nameof(VocabCases))]
    public void Matches_reference(int vocab)
    {
        var scales = new[] { 1.5f, 3f, 0.5f, 0f, -1f, 1f };
        foreach (int rows in RowsFor(vocab))
        {
            var rng = new Random(Seed(rows, vocab, 24));
            float scale = scales[rng.Next(scales.Length)];
            var data = LogitData.Random(rows, vocab, Seed(rows, vocab, 25));
            var uncond = LogitData.Random(rows, vocab, Seed(rows, vocab, 26) + 1);
            if (rows > 1)
            {
                // One unconditional row with no finite entry.
                Array.Fill(uncond, NegInf, vocab, vocab);
            }

            var actual = Run(new ClassifierFreeGuidanceProcessor(scale, new FixedProvider(uncond)), data, rows, vocab, Contexts(rows, Array.Empty<int>()));
            for (int r = 0; r < rows; r++)
            {
                var row = LogitData.Row(data, vocab, r);
                var u = LogitData.Row(uncond, vocab, r);
                double tolerance = (Math.Abs(scale) + Math.Abs(1 - scale)) * (LogScale(row) + LogScale(u));
                AssertRow(actual, vocab, r, ReferenceConstraints.Cfg(row, u, scale), $"CFG scale {scale}", tolerance);
            }
        }
    }

    [Fact]
    public void All_negative_infinity_row_passes_through()
    {
        var provider = new FixedProvider(new float[] { 1, 2, 3, 4, 5, NegInf, 0, 1 });
        AssertEmptyRowPassesThrough(new ClassifierFreeGuidanceProcessor(2f, provider), 4, Contexts(2, Array.Empty<int>()));
    }

    [Fact]
    public void Invalid_parameters_throw()
    {
        var provider = new FixedProvider(Unconditional);
        foreach (float scale in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            FluentActions.Invoking(() => new ClassifierFreeGuidanceProcessor(scale, provider))
                .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("scale");
        }

        FluentActions.Invoking(() => new ClassifierFreeGuidanceProcessor(2f, null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => UnconditionalLogitsProvider.FromRows(null!)).Should().Throw<ArgumentNullException>();
    }
}

/// <summary>Classifier-free guidance on the CPU backend.</summary>
public sealed class CpuClassifierFreeGuidanceTests : ClassifierFreeGuidanceTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

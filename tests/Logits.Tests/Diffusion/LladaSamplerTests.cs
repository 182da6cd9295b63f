using System;
using System.Linq;
using FluentAssertions;
using Logits.Diffusion;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Diffusion;

/// <summary>LLaDA remasking (docs/algorithms/discrete-diffusion.md#llada-low-confidence-remasking) and its exact-oracle laws, on every backend.</summary>
public abstract class LladaSamplerTests
{
    private const int Draws = 100_000;
    private const double Alpha = 1e-3;

    /// <summary>Creates a batch on the backend under test.</summary>
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    private MarkovChainOracle Oracle() => new(Create, 4, product: false, rowWidth: 4);

    [Theory]
    [InlineData(10, 4, new[] { 3, 3, 2, 2 })]
    [InlineData(5, 3, new[] { 2, 2, 1 })]
    [InlineData(32, 8, new[] { 4, 4, 4, 4, 4, 4, 4, 4 })]
    [InlineData(4, 4, new[] { 1, 1, 1, 1 })]
    [InlineData(3, 5, new[] { 1, 1, 1, 0, 0 })]
    public void Quotas(int masked, int steps, int[] expected) => LladaSampler.Quotas(masked, steps).Should().Equal(expected);

    [Theory]
    [InlineData(4, 4, 2, new[] { 0, 1, 0, 1 })]
    [InlineData(4, 2, 4, new[] { 0, 1, 2, 3 })]
    [InlineData(4, 4, 4, new[] { 1, 2, 0, 3 })]
    [InlineData(4, 2, 2, new[] { 0, 0, 1, 1 })]
    public void Fixed_logit_model_reveal_schedule(int g, int b, int s, int[] revealStepOfPosition)
    {
        var model = new FixedRowsModel(Create, new float[] { 2, 0, 0, 9 }, new float[] { 0, 1, 0, 9 }, new float[] { 0, 0, 3, 9 }, new float[] { 0.5f, 0.4f, 0, 9 });
        var result = new LladaSampler(g, b, s).Sample(model, ReadOnlySpan<int>.Empty, 1, seed: 0);
        result.Tokens.Should().Equal(0, 1, 2, 0);
        result.RevealSteps.Should().Equal(revealStepOfPosition);
        result.FunctionEvaluations[0].Should().Be(s);
    }

    [Fact]
    public void Fixed_logit_model_confidences()
    {
        float[][] rows = { new float[] { 2, 0, 0, float.NegativeInfinity }, new float[] { 0, 1, 0, float.NegativeInfinity }, new float[] { 0, 0, 3, float.NegativeInfinity }, new float[] { 0.5f, 0.4f, 0, float.NegativeInfinity } };
        double[] expected = { 0.786986, 0.576117, 0.909443, 0.398189 };
        int[] proposals = { 0, 1, 2, 0 };
        for (int i = 0; i < 4; i++)
        {
            LladaSampler.ArgMax(rows[i]).Should().Be(proposals[i]);
            LladaSampler.Probability(rows[i], proposals[i]).Should().BeApproximately(expected[i], 1e-6);
        }
    }

    [Fact]
    public void Greedy_quota_one_on_the_oracle_is_deterministic()
    {
        var result = new LladaSampler(4, 4, 4).Sample(Oracle(), ReadOnlySpan<int>.Empty, 3, seed: 1);
        result.Tokens.Should().Equal(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        result.Sequence(0).ToArray().Should().Equal(0, 0, 0, 0);
        result.RevealSteps.Take(4).Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public void Random_remasking_one_token_per_step_samples_the_data_law()
    {
        // Case A2.
        var o = Oracle();
        var result = new LladaSampler(4, 4, 4, temperature: 1, remasking: LladaRemasking.Random).Sample(o, ReadOnlySpan<int>.Empty, Draws, seed: 17);
        var counts = ExactLaws.Counts(result.Tokens, 4);
        var p = o.Law();
        var test = ChiSquare.Test(counts, p);
        test.Rejects(Alpha).Should().BeFalse(test.ToString());
        ExactLaws.TotalVariation(counts.Select(c => (double)c / Draws).ToArray(), p).Should().BeLessThan(ExactLaws.TvNoiseThreshold(p, Draws));
    }

    [Theory]
    [InlineData(4, 0.479074, 0.489944, 0.000036)]
    [InlineData(2, 0.359872, 0.177048, 0.001544)]
    public void Low_confidence_samples_the_enumerated_biased_law(int steps, double tv, double q0000, double q0120)
    {
        // Case D: the predicted law is enumerated from the same float64 confidences, ties to the lower position.
        var o = Oracle();
        var q = ExactLaws.LladaLowConfidence(o, LladaSampler.Quotas(4, steps));
        var p = o.Law();
        // The reference values are exact arithmetic. Logit batches are float32, so ln c is rounded to float32 before the
        // float64 softmax; that breaks some exact confidence ties differently and moves the quota-1 law by TV 5.6e-4 from
        // the exact one (checked independently with rational arithmetic). The chi-square below uses the float law.
        ExactLaws.TotalVariation(q, p).Should().BeApproximately(tv, 1e-3);
        q[MarkovChainOracle.Encode(new[] { 0, 0, 0, 0 })].Should().BeApproximately(q0000, 1e-4);
        q[MarkovChainOracle.Encode(new[] { 0, 1, 2, 0 })].Should().BeApproximately(q0120, 1e-5);

        var result = new LladaSampler(4, 4, steps, temperature: 1).Sample(o, ReadOnlySpan<int>.Empty, Draws, seed: 23);
        var counts = ExactLaws.Counts(result.Tokens, 4);
        var test = ChiSquare.Test(counts, q);
        test.Rejects(Alpha).Should().BeFalse(test.ToString());
        ChiSquare.Test(counts, p).Rejects(Alpha).Should().BeTrue("the data law is the wrong hypothesis for low-confidence remasking");
        result.FunctionEvaluations.Should().OnlyContain(e => e == steps);
    }

    [Fact]
    public void Zero_quota_steps_skip_the_model_and_prompt_is_kept()
    {
        var o = Oracle();
        var prompt = new[] { 2, 1 };
        var result = new LladaSampler(2, 2, 4, temperature: 1).Sample(o, prompt, 1, seed: 3);
        result.FunctionEvaluations[0].Should().Be(2, "quotas [1, 1, 0, 0] call the model twice");
        result.Tokens.Take(2).Should().Equal(2, 1);
        result.Tokens.Skip(2).Should().OnlyContain(t => t >= 0 && t < 3);
    }

    [Fact]
    public void Guidance_combines_conditional_and_unconditional_passes()
    {
        // Prompt visible: l_c = (1, 2, 0, 9); prompt masked: l_u = (0, 3, 0, 9). w = 1 gives 2 l_c - l_u = (2, 1, 0) -> token 0.
        var model = new PromptSensitiveModel(Create);
        var unguided = new LladaSampler(1, 1, 1).Sample(model, new[] { 0 }, 1, seed: 0);
        unguided.Tokens[1].Should().Be(1);
        var guided = new LladaSampler(1, 1, 1, guidanceScale: 1).Sample(model, new[] { 0 }, 1, seed: 0);
        guided.Tokens[1].Should().Be(0);
        guided.FunctionEvaluations[0].Should().Be(2);
    }

    [Fact]
    public void Suppressed_and_deprioritised_tokens()
    {
        var model = new FixedRowsModel(Create, new float[] { 2, 0, 0, 9 }, new float[] { 0, 1, 0, 9 }, new float[] { 0, 0, 3, 9 }, new float[] { 0.5f, 0.4f, 0, 9 });
        var suppressed = new LladaSampler(4, 4, 4, suppressTokens: new[] { 0 }).Sample(model, ReadOnlySpan<int>.Empty, 1, 0);
        suppressed.Tokens.Should().Equal(1, 1, 2, 1);
        var late = new LladaSampler(4, 4, 4, deprioritisedTokens: new[] { 2 }).Sample(model, ReadOnlySpan<int>.Empty, 1, 0);
        late.RevealSteps[2].Should().Be(3, "position 2 proposes the deprioritised token 2 and is revealed last");
    }

    [Fact]
    public void Invalid_parameters()
    {
        FluentActions.Invoking(() => new LladaSampler(0, 1, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("generationLength");
        FluentActions.Invoking(() => new LladaSampler(4, 5, 4)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("blockLength");
        FluentActions.Invoking(() => new LladaSampler(4, 3, 4)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("blockLength");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 3)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("steps");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 4, temperature: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("temperature");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 4, remasking: (LladaRemasking)5)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("remasking");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 4, guidanceScale: double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("guidanceScale");
        FluentActions.Invoking(() => new LladaSampler(4, 2, 4, suppressTokens: new[] { -1 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("suppressTokens");
        FluentActions.Invoking(() => new LladaSampler(4, 4, 4).Sample(Oracle(), new[] { 7 }, 1, 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("prompts");
        var nan = new FixedRowsModel(Create, new[] { float.NaN, 0, 0, 0 });
        FluentActions.Invoking(() => new LladaSampler(1, 1, 1).Sample(nan, ReadOnlySpan<int>.Empty, 1, 0)).Should().Throw<InvalidLogitsException>();
        var dead = new FixedRowsModel(Create, new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 0 });
        FluentActions.Invoking(() => new LladaSampler(1, 1, 1).Sample(dead, ReadOnlySpan<int>.Empty, 1, 0)).Should().Throw<NoViableTokenException>();
    }

    /// <summary>Ignores its input; answer position i gets row i (the prompt is not modelled).</summary>
    private sealed class FixedRowsModel : IMaskPredictor
    {
        private readonly Func<float[], int, int, LogitBatch> _create;
        private readonly float[][] _rows;

        public FixedRowsModel(Func<float[], int, int, LogitBatch> create, params float[][] rows)
        {
            _create = create;
            _rows = rows;
        }

        public int RowWidth => 4;

        public int MaskId => 3;

        public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
        {
            int length = tokens.Length / sequences;
            var values = new float[tokens.Length * 4];
            for (int r = 0; r < tokens.Length; r++)
            {
                _rows[(r % length) % _rows.Length].CopyTo(values, r * 4);
            }

            return _create(values, tokens.Length, 4);
        }
    }

    private sealed class PromptSensitiveModel : IMaskPredictor
    {
        private readonly Func<float[], int, int, LogitBatch> _create;

        public PromptSensitiveModel(Func<float[], int, int, LogitBatch> create) => _create = create;

        public int RowWidth => 4;

        public int MaskId => 3;

        public LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences)
        {
            float[] row = tokens[0] == 3 ? new float[] { 0, 3, 0, 9 } : new float[] { 1, 2, 0, 9 };
            var values = new float[tokens.Length * 4];
            for (int r = 0; r < tokens.Length; r++)
            {
                row.CopyTo(values, r * 4);
            }

            return _create(values, tokens.Length, 4);
        }
    }
}

/// <summary>The LLaDA sampler tests on the CPU backend.</summary>
public sealed class CpuLladaSamplerTests : LladaSamplerTests
{
    /// <inheritdoc />
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

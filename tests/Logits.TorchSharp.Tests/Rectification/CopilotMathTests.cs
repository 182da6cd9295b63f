using System;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>Mistake vectors, pooling and the Copilot loss against reference vectors T1, T7, T8, T9 (docs/algorithms/paper-methods.md#copilot-loss) and properties.</summary>
public sealed class CopilotMathTests
{
    private static readonly double[] T1Mistake = { 0.909969, -0.244728, -0.665241 };

    [Fact]
    public void T1_mistake_vector_matches_the_spec()
    {
        using var logits = tensor(new float[] { 1, 2, 3 }, new long[] { 1, 1, 3 });
        using var targets = tensor(new long[] { 0 }, new long[] { 1, 1 });
        using var mask = tensor(new[] { true }, new long[] { 1, 1 });
        using var mistakes = CopilotMath.MistakeVectors(logits, targets, mask);
        mistakes.dtype.Should().Be(ScalarType.Float32);
        var values = mistakes.data<float>().ToArray();
        for (int v = 0; v < 3; v++)
        {
            values[v].Should().BeApproximately((float)T1Mistake[v], 1e-5f);
        }

        Math.Abs(values.Sum()).Should().BeLessThan(1e-6f);
    }

    [Fact]
    public void Mistake_vectors_sum_to_zero_stay_in_range_and_are_zero_where_masked()
    {
        manual_seed(3);
        const int batch = 3, length = 5, vocab = 37;

        // Logits far above 88.7 and bfloat16 input: the max-shifted float32 path must stay finite.
        using var logits = randn(batch, length, vocab).Times(40).Plus(500).to_type(ScalarType.BFloat16);
        using var targets = randint(0, vocab, new long[] { batch, length });
        var maskValues = Enumerable.Range(0, batch * length).Select(i => i % 4 != 1).ToArray();
        using var mask = tensor(maskValues, new long[] { batch, length });
        using var mistakes = CopilotMath.MistakeVectors(logits, targets, mask);
        mistakes.requires_grad.Should().BeFalse();
        var values = mistakes.data<float>().ToArray();
        var ids = targets.data<long>().ToArray();
        for (int p = 0; p < batch * length; p++)
        {
            var row = values.AsSpan(p * vocab, vocab).ToArray();
            if (!maskValues[p])
            {
                row.Should().OnlyContain(x => x == 0);
                continue;
            }

            Math.Abs(row.Sum()).Should().BeLessThan(1e-5f);
            for (int v = 0; v < vocab; v++)
            {
                if (v == ids[p])
                {
                    row[v].Should().BeInRange(0f, 1f);
                }
                else
                {
                    row[v].Should().BeInRange(-1f, 0f);
                }
            }
        }

        // Ignore-index targets (-100) at masked positions are allowed; a valid out-of-range target is not.
        using var ignored = targets.FilledWhere(mask.logical_not(), -100L);
        using var ok = CopilotMath.MistakeVectors(logits, ignored, mask);
        ok.shape.Should().Equal(batch, length, vocab);
        using var bad = targets.clone();
        bad[0, 0] = tensor(vocab);
        using var allValid = ones(batch, length, ScalarType.Bool);
        FluentActions.Invoking(() => CopilotMath.MistakeVectors(logits, bad, allValid)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("targets");
    }

    [Fact]
    public void Pooling_is_the_float32_mean_over_layers()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 1, 2, 2 }).to_type(ScalarType.Float16);
        using var b = tensor(new float[] { 3, 2, 1, 0 }, new long[] { 1, 2, 2 });
        using var c = tensor(new float[] { 2, 5, 8, 2 }, new long[] { 1, 2, 2 });
        using var pooled = CopilotMath.PoolHiddenStates(new[] { a, b, c });
        pooled.dtype.Should().Be(ScalarType.Float32);
        pooled.data<float>().ToArray().Should().Equal(2f, 3f, 4f, 2f);
        FluentActions.Invoking(() => CopilotMath.PoolHiddenStates(Array.Empty<Tensor>())).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("layerStates");
        using var wrong = zeros(1, 3, 2);
        FluentActions.Invoking(() => CopilotMath.PoolHiddenStates(new[] { a, wrong })).Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData(CopilotLossReduction.RootSumSquare, 0.509288, new[] { -0.804986, 0.284178, 0.520808 })]
    [InlineData(CopilotLossReduction.RootMeanSquare, 0.294037, new[] { -0.464759, 0.164070, 0.300688 })]
    public void T7_loss_and_gradient_for_one_position(CopilotLossReduction reduction, double expected, double[] gradient)
    {
        using var prediction = tensor(new float[] { 0.5f, -0.1f, -0.4f }, new long[] { 1, 1, 3 }).requires_grad_();
        using var target = tensor(T1Mistake.Select(x => (float)x).ToArray(), new long[] { 1, 1, 3 });
        using var mask = tensor(new[] { true }, new long[] { 1, 1 });
        using var loss = CopilotMath.CopilotLoss(prediction, target, mask, reduction);
        loss.item<float>().Should().BeApproximately((float)expected, 1e-5f);
        loss.backward();
        var grad = prediction.grad!.data<float>().ToArray();
        for (int v = 0; v < 3; v++)
        {
            grad[v].Should().BeApproximately((float)gradient[v], 1e-5f);
        }
    }

    [Fact]
    public void T8_batch_of_two_sequences_both_reductions_with_autograd_gradients()
    {
        // Sequence A: positions 1, 2 valid, 3 padded (garbage that must be ignored); sequence B: position 1 valid.
        var target = new float[]
        {
            0.909969f, -0.244728f, -0.665241f, -0.211942f, -0.576117f, 0.788058f, 9f, 9f, 9f,
            -0.786986f, 0.893493f, -0.106507f, 7f, 7f, 7f, 7f, 7f, 7f,
        };
        var prediction = new float[]
        {
            0.5f, -0.1f, -0.4f, 0f, -0.5f, 0.5f, -3f, 4f, 1f,
            -0.3f, 0.6f, -0.3f, 1f, 2f, 3f, 4f, 5f, 6f,
        };
        var valid = new[] { true, true, false, true, false, false };
        foreach (var (reduction, expected) in new[] { (CopilotLossReduction.RootMeanSquare, 0.289405), (CopilotLossReduction.RootSumSquare, 0.613780) })
        {
            using var p = tensor(prediction, new long[] { 2, 3, 3 }).requires_grad_();
            using var t = tensor(target, new long[] { 2, 3, 3 });
            using var mask = tensor(valid, new long[] { 2, 3 });
            using var loss = CopilotMath.CopilotLoss(p, t, mask, reduction);
            loss.item<float>().Should().BeApproximately((float)expected, 1e-5f, reduction.ToString());
            loss.backward();
            var grad = p.grad!.data<float>().ToArray();

            // Reference gradients by hand: RMS: (f − ℓ) / (L · N·V); RSS: (f − ℓ) / (sqrt(S_b) · B_valid).
            double sA = 0.393065, sB = 0.360733;
            for (int i = 0; i < 18; i++)
            {
                int position = i / 3;
                double reference = 0;
                if (valid[position])
                {
                    double diff = prediction[i] - target[i];
                    reference = reduction == CopilotLossReduction.RootMeanSquare
                        ? diff / (expected * 9)
                        : diff / (Math.Sqrt(position < 3 ? sA : sB) * 2);
                }

                grad[i].Should().BeApproximately((float)reference, 2e-5f, $"{reduction} entry {i}");
            }
        }
    }

    [Theory]
    [InlineData(CopilotLossReduction.RootMeanSquare)]
    [InlineData(CopilotLossReduction.RootSumSquare)]
    public void T9_zero_error_and_empty_batch_give_zero_loss_and_exactly_zero_gradient(CopilotLossReduction reduction)
    {
        var values = new float[] { 0.909969f, -0.244728f, -0.665241f, 0.1f, -0.1f, 0f };
        using var target = tensor(values, new long[] { 1, 2, 3 });
        using var prediction = target.clone().requires_grad_();
        using var mask = tensor(new[] { true, true }, new long[] { 1, 2 });
        using var loss = CopilotMath.CopilotLoss(prediction, target, mask, reduction);
        loss.item<float>().Should().Be(0f);
        loss.backward();
        prediction.grad!.data<float>().ToArray().Should().OnlyContain(g => g == 0f);

        using var other = tensor(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 1, 2, 3 }).requires_grad_();
        using var none = zeros(new long[] { 1, 2 }, ScalarType.Bool);
        using var empty = CopilotMath.CopilotLoss(other, target, none, reduction);
        empty.item<float>().Should().Be(0f);
        empty.backward();
        other.grad!.data<float>().ToArray().Should().OnlyContain(g => g == 0f);
    }

    [Fact]
    public void Loss_rejects_invalid_arguments()
    {
        using var p = zeros(1, 2, 3);
        using var mask = ones(new long[] { 1, 2 }, ScalarType.Bool);
        FluentActions.Invoking(() => CopilotMath.CopilotLoss(p, p, mask, (CopilotLossReduction)7)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("reduction");
        using var shortTarget = zeros(1, 2, 2);
        FluentActions.Invoking(() => CopilotMath.CopilotLoss(p, shortTarget, mask)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("target");
        using var floatMask = ones(1, 2);
        FluentActions.Invoking(() => CopilotMath.CopilotLoss(p, p, floatMask)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("mask");
        FluentActions.Invoking(() => CopilotMath.CopilotLoss(null!, p, mask)).Should().Throw<ArgumentNullException>();
    }
}

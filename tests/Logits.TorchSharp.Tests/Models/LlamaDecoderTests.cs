using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Models;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Models;

/// <summary>The llama decoder: a double-precision reference of its forward pass, options, shapes, causality, seeding, export and training.</summary>
public sealed class LlamaDecoderTests
{
    private static LlamaDecoderOptions Small(bool tied = true) => new()
    {
        VocabSize = 13,
        MaxSequenceLength = 12,
        Width = 16,
        Heads = 2,
        Layers = 2,
        FeedForwardWidth = 24,
        TiedOutputHead = tied,
    };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_matches_a_double_precision_reference_of_the_llama_block(bool tied)
    {
        using var model = LlamaDecoder.Create(Small(tied), seed: 5);
        Scramble(model, seed: 6);
        model.eval();
        long[] ids = { 1, 7, 3, 12, 0, 5, 5, 9, 2, 11 };
        using var tokens = tensor(ids, new long[] { 1, ids.Length });
        using var logits = model.forward(tokens);
        var actual = DecoderTransformerTests.Values(logits);
        var expected = Reference(model.ExportTensors(), model.Options, ids);

        double worst = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        worst.Should().BeLessThan(1e-4);
        expected.Max().Should().BeGreaterThan(expected.Min() + 1, "the weights are large enough for the comparison to mean something");
    }

    [Fact]
    public void Rotary_positions_make_the_logits_depend_on_token_order()
    {
        using var model = LlamaDecoder.Create(Small(), seed: 2);
        Scramble(model, seed: 3);
        model.eval();
        using var ab = tensor(new long[] { 4, 9, 6 }, new long[] { 1, 3 });
        using var ba = tensor(new long[] { 9, 4, 6 }, new long[] { 1, 3 });
        using var first = model.forward(ab);
        using var second = model.forward(ba);
        var x = DecoderTransformerTests.Values(first).AsSpan(2 * 13, 13).ToArray();
        var y = DecoderTransformerTests.Values(second).AsSpan(2 * 13, 13).ToArray();
        x.Zip(y, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-3f, "without positions attention would be order-blind");
    }

    [Fact]
    public void Outputs_at_a_position_do_not_depend_on_later_tokens()
    {
        using var model = LlamaDecoder.Create(Small(), seed: 4);
        Scramble(model, seed: 5);
        model.eval();
        using var a = tensor(new long[] { 1, 2, 3, 4, 5 }, new long[] { 1, 5 });
        using var b = tensor(new long[] { 1, 2, 3, 10, 11 }, new long[] { 1, 5 });
        using var la = model.forward(a);
        using var lb = model.forward(b);
        var x = DecoderTransformerTests.Values(la);
        var y = DecoderTransformerTests.Values(lb);
        x.AsSpan(0, 3 * 13).ToArray().Should().Equal(y.AsSpan(0, 3 * 13).ToArray());
        x.AsSpan(3 * 13).ToArray().Should().NotEqual(y.AsSpan(3 * 13).ToArray());
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_others()
    {
        using var a = LlamaDecoder.Create(Small(), seed: 9);
        using var b = LlamaDecoder.Create(Small(), seed: 9);
        using var c = LlamaDecoder.Create(Small(), seed: 10);
        var ta = a.ExportTensors();
        var tb = b.ExportTensors();
        var tc = c.ExportTensors();
        foreach (var (name, values) in ta)
        {
            tb[name].Should().Equal(values, name);
        }

        tc["blk.0.attn_q.weight"].Should().NotEqual(ta["blk.0.attn_q.weight"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Export_names_every_weight_as_llama_cpp_does(bool tied)
    {
        using var model = LlamaDecoder.Create(Small(tied), seed: 1);
        var tensors = model.ExportTensors();
        const int d = 16, ff = 24, v = 13;
        var expected = new Dictionary<string, int> { ["token_embd.weight"] = v * d, ["output_norm.weight"] = d };
        for (int i = 0; i < 2; i++)
        {
            expected[$"blk.{i}.attn_norm.weight"] = d;
            expected[$"blk.{i}.attn_q.weight"] = d * d;
            expected[$"blk.{i}.attn_k.weight"] = d * d;
            expected[$"blk.{i}.attn_v.weight"] = d * d;
            expected[$"blk.{i}.attn_output.weight"] = d * d;
            expected[$"blk.{i}.ffn_norm.weight"] = d;
            expected[$"blk.{i}.ffn_gate.weight"] = ff * d;
            expected[$"blk.{i}.ffn_up.weight"] = ff * d;
            expected[$"blk.{i}.ffn_down.weight"] = d * ff;
        }

        if (!tied)
        {
            expected["output.weight"] = v * d;
        }

        tensors.ToDictionary(t => t.Key, t => t.Value.Length).Should().BeEquivalentTo(expected);
        tensors["output_norm.weight"].Should().OnlyContain(g => g == 1f, "norm gains start at 1");
        model.ParameterCount.Should().Be(expected.Values.Sum());
    }

    [Fact]
    public void Training_lowers_the_loss_on_a_repeating_pattern()
    {
        using var model = LlamaDecoder.Create(Small(), seed: 3);
        using var trainer = new LlamaDecoderTrainer(model, learningRate: 1e-2);
        var pattern = new long[4 * 11];
        for (int b = 0; b < 4; b++)
        {
            for (int k = 0; k < 11; k++)
            {
                pattern[(b * 11) + k] = ((k * 3) + b) % 13;
            }
        }

        using var windows = tensor(pattern, new long[] { 4, 11 });
        double before = trainer.Evaluate(windows);
        for (int step = 0; step < 60; step++)
        {
            trainer.Step(windows);
        }

        trainer.Steps.Should().Be(60);
        trainer.Evaluate(windows).Should().BeLessThan(before / 4);
        model.training.Should().BeTrue("Evaluate restores the training mode");
    }

    [Fact]
    public void Invalid_options_and_inputs_are_rejected_with_their_names()
    {
        FluentActions.Invoking(() => new LlamaDecoderOptions { VocabSize = 0, MaxSequenceLength = 4 })
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("VocabSize");
        FluentActions.Invoking(() => new LlamaDecoderOptions { VocabSize = 4, MaxSequenceLength = 4, RmsNormEpsilon = 0 })
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("RmsNormEpsilon");
        FluentActions.Invoking(() => new LlamaDecoderOptions { VocabSize = 4, MaxSequenceLength = 4, RopeFrequencyBase = double.NaN })
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("RopeFrequencyBase");

        // Heads of odd size cannot hold rotary pairs.
        FluentActions.Invoking(() => LlamaDecoder.Create(Small() with { Width = 18, Heads = 2 }, seed: 1))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Width");

        using var model = LlamaDecoder.Create(Small(), seed: 1);
        using var floats = zeros(1, 3);
        FluentActions.Invoking(() => model.forward(floats)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("tokens");
        using var tooLong = zeros(new long[] { 1, 13 }, ScalarType.Int64);
        FluentActions.Invoking(() => model.forward(tooLong)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("tokens");
        using var trainer = new LlamaDecoderTrainer(model);
        using var single = zeros(new long[] { 2, 1 }, ScalarType.Int64);
        FluentActions.Invoking(() => trainer.Step(single)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("windows");
        FluentActions.Invoking(() => new LlamaDecoderTrainer(model, weightDecay: -1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("weightDecay");
    }

    /// <summary>Replaces every weight by a seeded draw large enough for attention and norms to matter.</summary>
    private static void Scramble(LlamaDecoder model, int seed)
    {
        var random = new Random(seed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var values = new float[parameter.numel()];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() * 2) - 1) * (name.Contains("norm", StringComparison.Ordinal) ? 1f : 0.5f);
                if (name.Contains("norm", StringComparison.Ordinal))
                {
                    values[i] += 1.5f;
                }
            }

            using var source = tensor(values, parameter.shape);
            parameter.copy_(source);
        }
    }

    /// <summary>The llama forward pass in double precision from the exported weights: logits <c>[T, V]</c>, row-major.</summary>
    private static double[] Reference(IReadOnlyDictionary<string, float[]> w, LlamaDecoderOptions o, long[] ids)
    {
        int d = o.Width, ff = o.FeedForwardWidth, v = o.VocabSize, t = ids.Length, heads = o.Heads, dh = o.HeadSize;
        double eps = o.RmsNormEpsilon;
        var h = new double[t][];
        for (int p = 0; p < t; p++)
        {
            h[p] = Enumerable.Range(0, d).Select(i => (double)w["token_embd.weight"][(ids[p] * d) + i]).ToArray();
        }

        for (int layer = 0; layer < o.Layers; layer++)
        {
            string b = $"blk.{layer}.";
            var q = new double[t][];
            var k = new double[t][];
            var val = new double[t][];
            for (int p = 0; p < t; p++)
            {
                var n = RmsNorm(h[p], w[b + "attn_norm.weight"], eps);
                q[p] = Rotate(MatVec(w[b + "attn_q.weight"], n, d), p, heads, dh, o.RopeFrequencyBase);
                k[p] = Rotate(MatVec(w[b + "attn_k.weight"], n, d), p, heads, dh, o.RopeFrequencyBase);
                val[p] = MatVec(w[b + "attn_v.weight"], n, d);
            }

            var next = new double[t][];
            for (int p = 0; p < t; p++)
            {
                var mixed = new double[d];
                for (int head = 0; head < heads; head++)
                {
                    var scores = new double[p + 1];
                    for (int s = 0; s <= p; s++)
                    {
                        double dot = 0;
                        for (int i = 0; i < dh; i++)
                        {
                            dot += q[p][(head * dh) + i] * k[s][(head * dh) + i];
                        }

                        scores[s] = dot / Math.Sqrt(dh);
                    }

                    double max = scores.Max();
                    var weights = scores.Select(x => Math.Exp(x - max)).ToArray();
                    double sum = weights.Sum();
                    for (int s = 0; s <= p; s++)
                    {
                        for (int i = 0; i < dh; i++)
                        {
                            mixed[(head * dh) + i] += weights[s] / sum * val[s][(head * dh) + i];
                        }
                    }
                }

                var x1 = Add(h[p], MatVec(w[b + "attn_output.weight"], mixed, d));
                var m = RmsNorm(x1, w[b + "ffn_norm.weight"], eps);
                var gate = MatVec(w[b + "ffn_gate.weight"], m, ff);
                var up = MatVec(w[b + "ffn_up.weight"], m, ff);
                var hidden = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                next[p] = Add(x1, MatVec(w[b + "ffn_down.weight"], hidden, d));
            }

            h = next;
        }

        var output = w.TryGetValue("output.weight", out var untied) ? untied : w["token_embd.weight"];
        var logits = new double[t * v];
        for (int p = 0; p < t; p++)
        {
            MatVec(output, RmsNorm(h[p], w["output_norm.weight"], eps), v).CopyTo(logits, p * v);
        }

        return logits;
    }

    private static double[] MatVec(float[] matrix, double[] x, int rows)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < x.Length; c++)
            {
                sum += matrix[(r * x.Length) + c] * x[c];
            }

            y[r] = sum;
        }

        return y;
    }

    private static double[] RmsNorm(double[] x, float[] gain, double eps)
    {
        double scale = 1 / Math.Sqrt((x.Sum(a => a * a) / x.Length) + eps);
        return x.Select((a, i) => a * scale * gain[i]).ToArray();
    }

    // llama.cpp's "normal" rotary mode: dimensions 2i and 2i + 1 of each head rotate by p·θ^(−2i/d_h).
    private static double[] Rotate(double[] x, int position, int heads, int dh, double theta)
    {
        var y = (double[])x.Clone();
        for (int head = 0; head < heads; head++)
        {
            for (int i = 0; i < dh / 2; i++)
            {
                double angle = position * Math.Pow(theta, -2.0 * i / dh);
                int a = (head * dh) + (2 * i);
                y[a] = (x[a] * Math.Cos(angle)) - (x[a + 1] * Math.Sin(angle));
                y[a + 1] = (x[a] * Math.Sin(angle)) + (x[a + 1] * Math.Cos(angle));
            }
        }

        return y;
    }

    private static double[] Add(double[] a, double[] b) => a.Select((x, i) => x + b[i]).ToArray();
}

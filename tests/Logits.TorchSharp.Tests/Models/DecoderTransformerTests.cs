using System;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Models;

/// <summary>The decoder-only transformer: options, shapes, causality, head tying, seeding, learning and tensor hygiene.</summary>
public sealed class DecoderTransformerTests
{
    internal static DecoderTransformerOptions Small(bool tied = true, double dropout = 0) => new()
    {
        VocabSize = 11,
        MaxSequenceLength = 8,
        Width = 16,
        Heads = 2,
        Layers = 3,
        Dropout = dropout,
        TiedOutputHead = tied,
    };

    internal static float[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    [Fact]
    public void Forward_and_pilot_forward_have_the_documented_shapes()
    {
        using var model = DecoderTransformer.Create(Small(), seed: 1);
        using var tokens = tensor(new long[] { 1, 2, 3, 4, 5, 0, 10, 9, 8, 7 }, new long[] { 2, 5 });
        using var logits = model.forward(tokens);
        logits.shape.Should().Equal(2, 5, 11);

        using var output = ((IPilotModel)model).Forward(tokens);
        output.Logits.shape.Should().Equal(2, 5, 11);
        output.Embeddings.shape.Should().Equal(2, 5, 16);
        output.LayerStates.Should().HaveCount(3).And.OnlyContain(s => s.shape.SequenceEqual(new long[] { 2, 5, 16 }));
        Values(output.Logits).Should().Equal(Values(logits), "the Pilot forward and the module forward compute the same logits");

        ((IPilotModel)model).VocabSize.Should().Be(11);
        ((IPilotModel)model).Width.Should().Be(16);
        ((IPilotModel)model).Layers.Should().Be(3);
        ((IPilotModel)model).MaxSequenceLength.Should().Be(8);
    }

    [Fact]
    public void Embeddings_are_token_plus_position_and_the_last_state_feeds_the_final_norm_and_head()
    {
        using var model = DecoderTransformer.Create(Small(tied: true), seed: 2);
        model.eval();
        using var tokens = tensor(new long[] { 3, 1, 4, 1, 5 }, new long[] { 1, 5 });
        using var output = ((IPilotModel)model).Forward(tokens);
        using var scope = NewDisposeScope();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Tensor tokenTable = model.TokenEmbeddingWeight;
        Tensor positionTable = parameters.Single(p => p.Key.Contains("positions", StringComparison.Ordinal)).Value;
        var expectedEmbeddings = tokenTable.index_select(0, tokens[0]).Plus(positionTable[TensorIndex.Slice(0, 5)]);
        Values(output.Embeddings[0]).Should().Equal(Values(expectedEmbeddings));

        // Tied head: logits = LN_f(h_L) · Eᵀ, LN_f with weight 1 and bias 0 at initialisation.
        var last = output.LayerStates[^1][0];
        var normed = nn.functional.layer_norm(last, new long[] { 16 });
        var expectedLogits = matmul(normed, tokenTable.t());
        var actual = Values(output.Logits[0]);
        var expected = Values(expectedLogits);
        for (int i = 0; i < actual.Length; i++)
        {
            actual[i].Should().BeApproximately(expected[i], 1e-5f);
        }
    }

    [Fact]
    public void Changing_a_token_changes_no_output_at_earlier_positions()
    {
        using var model = DecoderTransformer.Create(Small(), seed: 3);
        model.eval();
        var baseTokens = new long[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        using var baseInput = tensor(baseTokens, new long[] { 1, 8 });
        using var reference = ((IPilotModel)model).Forward(baseInput);
        for (int j = 1; j < 8; j++)
        {
            var changed = (long[])baseTokens.Clone();
            changed[j] = (changed[j] + 5) % 11;
            using var input = tensor(changed, new long[] { 1, 8 });
            using var output = ((IPilotModel)model).Forward(input);
            using var scope = NewDisposeScope();
            var pairs = new[] { (reference.Logits, output.Logits), (reference.Embeddings, output.Embeddings) }
                .Concat(reference.LayerStates.Zip(output.LayerStates));
            foreach (var (before, after) in pairs)
            {
                var earlier = TensorIndex.Slice(0, j);
                Values(after[TensorIndex.Colon, earlier]).Should().Equal(Values(before[TensorIndex.Colon, earlier]), $"positions < {j} cannot see position {j}");
                Values(after[TensorIndex.Colon, TensorIndex.Single(j)]).Should().NotEqual(Values(before[TensorIndex.Colon, TensorIndex.Single(j)]), $"position {j} sees its own token");
            }
        }
    }

    [Fact]
    public void Tied_head_uses_the_token_embedding_and_untied_head_has_its_own_weights()
    {
        using var tied = DecoderTransformer.Create(Small(tied: true), seed: 4);
        using var untied = DecoderTransformer.Create(Small(tied: false), seed: 4);
        untied.ParameterCount.Should().Be(tied.ParameterCount + (11 * 16) + 11, "an untied head adds V·d weights and V biases");
        tied.ParameterCount.Should().Be(Reference(Small()), "the parameter count matches the architecture");

        // The tied head's weight is the embedding parameter itself: a change to E[9] moves logit 9 even when token 9 is absent.
        tied.named_parameters().Should().NotContain(p => p.name.Contains("head", StringComparison.Ordinal));
        untied.named_parameters().Should().Contain(p => p.name.Contains("head", StringComparison.Ordinal));
        using var scope = NewDisposeScope();
        using var tokens = tensor(new long[] { 1, 2, 3 }, new long[] { 1, 3 });
        foreach (var (model, headMoves) in new[] { (tied, true), (untied, false) })
        {
            model.eval();
            float[] before = Values(model.forward(tokens));
            using (no_grad())
            {
                model.TokenEmbeddingWeight[9].PlusInPlace(1.0);
            }

            float[] after = Values(model.forward(tokens));
            for (int i = 0; i < before.Length; i++)
            {
                bool isColumn9 = i % 11 == 9;
                if (isColumn9 && headMoves)
                {
                    after[i].Should().NotBe(before[i]);
                }
                else
                {
                    after[i].Should().Be(before[i]);
                }
            }
        }

    }

    private static long Reference(DecoderTransformerOptions o)
    {
        long d = o.Width, f = o.FeedForwardWidth;
        long block = (2 * 2 * d) + ((d * 3 * d) + (3 * d)) + ((d * d) + d) + ((d * f) + f) + ((f * d) + d);
        return (o.VocabSize * d) + (o.MaxSequenceLength * d) + (o.Layers * block) + (2 * d);
    }

    [Fact]
    public void The_same_seed_gives_identical_weights_whatever_the_global_seed_and_another_seed_differs()
    {
        manual_seed(100);
        using var a = DecoderTransformer.Create(Small(tied: false), seed: 42);
        manual_seed(200);
        using var b = DecoderTransformer.Create(Small(tied: false), seed: 42);
        using var c = DecoderTransformer.Create(Small(tied: false), seed: 43);
        var pa = a.named_parameters().ToList();
        var pb = b.named_parameters().ToList();
        var pc = c.named_parameters().ToList();
        pa.Select(p => p.name).Should().Equal(pb.Select(p => p.name));
        for (int i = 0; i < pa.Count; i++)
        {
            Values(pa[i].parameter).Should().Equal(Values(pb[i].parameter), pa[i].name);
        }

        pa.Where(p => p.name.EndsWith("weight", StringComparison.Ordinal) && !p.name.Contains("norm", StringComparison.OrdinalIgnoreCase))
            .Should().OnlyContain(p => !Values(p.parameter).SequenceEqual(Values(pc[pa.IndexOf(p)].parameter)), "a different seed draws different weights");

        using var scope = NewDisposeScope();
        using var tokens = tensor(new long[] { 5, 4, 3, 2 }, new long[] { 1, 4 });
        Values(a.forward(tokens)).Should().Equal(Values(b.forward(tokens)));
        Values(a.forward(tokens)).Should().NotEqual(Values(c.forward(tokens)));

        // The initialisation follows GPT-2's scale: standard deviation 0.02 for the token embedding.
        double std = a.TokenEmbeddingWeight.std().item<float>();
        std.Should().BeInRange(0.015, 0.025);
    }

    [Fact]
    public void Options_validate_every_property_with_its_name()
    {
        static void Expect(Action build, string name) =>
            FluentActions.Invoking(build).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);

        Expect(() => _ = new DecoderTransformerOptions { VocabSize = 0, MaxSequenceLength = 4 }, "VocabSize");
        Expect(() => _ = new DecoderTransformerOptions { VocabSize = 4, MaxSequenceLength = 0 }, "MaxSequenceLength");
        Expect(() => _ = Small() with { Width = 0 }, "Width");
        Expect(() => _ = Small() with { Heads = 0 }, "Heads");
        Expect(() => _ = Small() with { Layers = -1 }, "Layers");
        Expect(() => _ = Small() with { FeedForwardWidth = 0 }, "FeedForwardWidth");
        Expect(() => _ = Small() with { Dropout = 1 }, "Dropout");
        Expect(() => _ = Small() with { Dropout = -0.1 }, "Dropout");
        Expect(() => _ = Small() with { Dropout = double.NaN }, "Dropout");
        Expect(() => DecoderTransformer.Create(Small() with { Width = 10, Heads = 4 }, 0).Dispose(), "Width");
        FluentActions.Invoking(() => DecoderTransformer.Create(null!, 0)).Should().Throw<ArgumentNullException>();

        var defaults = new DecoderTransformerOptions { VocabSize = 3, MaxSequenceLength = 2 };
        defaults.FeedForwardWidth.Should().Be(4 * defaults.Width);
        (defaults with { Width = 8 }).FeedForwardWidth.Should().Be(32);
        (defaults with { FeedForwardWidth = 5 }).FeedForwardWidth.Should().Be(5);
        defaults.TiedOutputHead.Should().BeTrue();
        defaults.Dropout.Should().Be(0);

        using var model = DecoderTransformer.Create(Small(), 0);
        using var ints = tensor(new int[] { 1, 2 }, new long[] { 1, 2 });
        FluentActions.Invoking(() => model.forward(ints)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("tokens");
        using var tooLong = zeros(new long[] { 1, 9 }, ScalarType.Int64);
        FluentActions.Invoking(() => model.forward(tooLong)).Should().Throw<ArgumentException>().WithMessage("*1 ≤ T ≤ 8*");
        using var flat = zeros(new long[] { 3 }, ScalarType.Int64);
        FluentActions.Invoking(() => ((IPilotModel)model).Forward(flat)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void A_tiny_model_learns_a_fixed_successor_mapping_in_a_few_dozen_adam_steps()
    {
        // x_{k+1} = (3 x_k + 1) mod 11 from every start token: 11 sequences of 6 tokens.
        var data = new long[11 * 6];
        for (int s = 0; s < 11; s++)
        {
            long x = s;
            for (int k = 0; k < 6; k++)
            {
                data[(s * 6) + k] = x;
                x = ((3 * x) + 1) % 11;
            }
        }

        manual_seed(5);
        using var model = DecoderTransformer.Create(Small(dropout: 0.1) with { Layers = 1, Width = 32, Heads = 4 }, seed: 6);
        using var optimizer = new HeldScalarAdamW(model.parameters(), 1e-2);
        using var batch = tensor(data, new long[] { 11, 6 });
        using var inputs = batch[TensorIndex.Colon, TensorIndex.Slice(0, 5)];
        using var targets = batch[TensorIndex.Colon, TensorIndex.Slice(1, 6)].reshape(-1);
        double Loss(bool step)
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(inputs).reshape(-1, 11), targets);
            if (step)
            {
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step();
            }

            return loss.item<float>();
        }

        double first = Loss(step: false);
        first.Should().BeInRange(Math.Log(11) - 0.2, Math.Log(11) + 0.2, "a fresh model is close to uniform");
        for (int i = 0; i < 40; i++)
        {
            Loss(step: true);
        }

        model.eval();
        double last = Loss(step: false);
        last.Should().BeLessThan(0.1 * first);
        using var scope = NewDisposeScope();
        var predicted = model.forward(inputs).argmax(-1).reshape(-1);
        Values(predicted.to_type(ScalarType.Float32)).Should().Equal(Values(targets.to_type(ScalarType.Float32)));
    }

    [Fact]
    public void Forward_backward_and_pilot_forward_leave_no_live_tensors()
    {
        using var model = DecoderTransformer.Create(Small(dropout: 0.2), seed: 7);
        using var tokens = tensor(new long[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
        using var wrongType = tokens.to_type(ScalarType.Int32);

        void RunAll()
        {
            using (var logits = model.forward(tokens))
            using (var squares = logits.Squared())
            using (var loss = squares.mean())
            {
                loss.backward();
            }

            using (var output = ((IPilotModel)model).Forward(tokens))
            {
                _ = output.LayerStates.Count;
            }

            model.zero_grad();
            Assert.Throws<ArgumentException>(() => model.forward(wrongType).Dispose());
        }

        RunAll(); // warm-up: gradients are allocated once and live with the parameters
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 3; i++)
        {
            RunAll();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());
    }
}

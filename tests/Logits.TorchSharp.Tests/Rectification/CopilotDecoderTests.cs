using System;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>The Copilot decoder: options, shapes, seeded construction and the memory-mask causality of docs/algorithms/paper-methods.md#copilot-decoder.</summary>
public sealed class CopilotDecoderTests
{
    internal static CopilotOptions SmallOptions(int vocab = 7, int pilotWidth = 6) => new()
    {
        VocabSize = vocab,
        PilotWidth = pilotWidth,
        Width = 8,
        Layers = 4,
        Heads = 2,
    };

    [Fact]
    public void Options_validate_each_property_with_its_name()
    {
        var options = SmallOptions();
        options.FeedForwardWidth.Should().Be(32);
        options.Dropout.Should().Be(0);
        Check(() => new CopilotOptions { VocabSize = 0, PilotWidth = 1, Width = 1, Layers = 2, Heads = 1 }, "VocabSize");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 0, Width = 1, Layers = 2, Heads = 1 }, "PilotWidth");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 0, Layers = 2, Heads = 1 }, "Width");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 0, Heads = 1 }, "Layers");
        Check(() => CopilotDecoder.Create(new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 1, Heads = 1, Layout = CopilotLayerLayout.Alternating }), "Layers");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 1, Heads = 1, Layout = (CopilotLayerLayout)7 }, "Layout");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 2, Heads = 0 }, "Heads");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 2, Heads = 1, FeedForwardWidth = 0 }, "FeedForwardWidth");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 2, Heads = 1, Dropout = 1 }, "Dropout");
        Check(() => new CopilotOptions { VocabSize = 1, PilotWidth = 1, Width = 1, Layers = 2, Heads = 1, Dropout = -0.1 }, "Dropout");
        Check(() => CopilotDecoder.Create(new CopilotOptions { VocabSize = 3, PilotWidth = 2, Width = 6, Layers = 2, Heads = 4 }), "Heads");

        static void Check(Func<object> create, string name) =>
            FluentActions.Invoking(create).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
    }

    [Fact]
    public void Forward_shapes_seeded_construction_and_initialiser_hook()
    {
        using var a = CopilotDecoder.Create(SmallOptions(), seed: 11);
        using var b = CopilotDecoder.Create(SmallOptions(), seed: 11);
        using var c = CopilotDecoder.Create(SmallOptions(), seed: 12);
        int layers = 0;
        using var hooked = CopilotDecoder.Create(SmallOptions(), seed: 11, initializer: m => layers = m.Options.Layers);
        layers.Should().Be(4);
        a.parameters().Zip(b.parameters()).Should().OnlyContain(p => p.First.allclose(p.Second, 0, 0));
        a.parameters().Zip(c.parameters()).Should().Contain(p => !p.First.allclose(p.Second, 0, 0));

        manual_seed(1);
        using var mistakes = rand(2, 3, 7).Minus(0.5);
        using var memory = randn(2, 8, 6);
        using var mask = CopilotDecoder.MemoryMask(new[] { 2, 1 }, new[] { 3, 2 }, 3, 4);
        using var output = a.TeacherForced(mistakes, memory, mask);
        output.shape.Should().Equal(2, 3, 7);
        output.isfinite().all().item<bool>().Should().BeTrue();
        using var again = b.TeacherForced(mistakes, memory, mask);
        output.allclose(again, 0, 0).Should().BeTrue();

        using var shifted = CopilotDecoder.ShiftRight(mistakes);
        shifted[0, 0].abs().sum().item<float>().Should().Be(0f);
        shifted[1, 2].allclose(mistakes[1, 1], 0, 0).Should().BeTrue();

        using var wrongMask = ones(new long[] { 2, 3, 7 }, ScalarType.Bool);
        FluentActions.Invoking(() => a.forward(mistakes, memory, wrongMask)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("memoryMask");
    }

    [Fact]
    public void Zero_output_projection_gives_a_zero_correction()
    {
        using var copilot = CopilotDecoder.Create(SmallOptions(), seed: 3);
        using (no_grad())
        {
            copilot.OutputProjection.weight!.zero_();
            copilot.OutputProjection.bias!.zero_();
        }

        using var mistakes = rand(1, 3, 7);
        using var memory = randn(1, 8, 6);
        using var mask = CopilotDecoder.MemoryMask(new[] { 2 }, new[] { 3 }, 3, 4);
        using var output = copilot.TeacherForced(mistakes, memory, mask);
        output.abs().max().item<float>().Should().Be(0f);
    }

    /// <summary>
    /// The memory-mask leakage test: changing ℓ_j or any Pilot token at position ≥ m + j changes none of
    /// f^C_1..f^C_j, and does change f^C_{j+1} (so the test can fail).
    /// </summary>
    [Theory]
    [InlineData(CopilotLayerLayout.CrossAttentionInEveryLayer)]
    [InlineData(CopilotLayerLayout.Alternating)]
    public void Changing_a_mistake_or_a_later_pilot_token_changes_no_earlier_output(CopilotLayerLayout layout)
    {
        const int m = 3, n = 5, vocab = 7, width = 6;
        manual_seed(21);
        using var pilot = new FakePilot(vocab, width, layers: 2, maxSequenceLength: 16, seed: 21);
        var options = SmallOptions(vocab, width);
        using var copilot = CopilotDecoder.Create(new CopilotOptions { VocabSize = vocab, PilotWidth = width, Width = options.Width, Layers = options.Layers, Heads = options.Heads, Layout = layout }, seed: 5);
        copilot.eval();
        var tokens = new long[] { 1, 4, 2, 6, 0, 3, 5, 2 };
        using var mistakes = rand(1, n, vocab).Minus(0.5);
        using var baseline = Run(tokens, mistakes);
        for (int j = 1; j <= n; j++)
        {
            // ℓ_j is 0-based index j − 1; the Pilot token s_{m+j} is 0-based index m + j − 1.
            using var changedMistakes = mistakes.clone();
            changedMistakes[0, j - 1] = changedMistakes[0, j - 1].Plus(0.7);
            var changedTokens = (long[])tokens.Clone();
            for (int k = m + j - 1; k < tokens.Length; k++)
            {
                changedTokens[k] = (tokens[k] + 3) % vocab;
            }

            using var both = Run(changedTokens, changedMistakes);
            using var onlyTokens = Run(changedTokens, mistakes);
            foreach (var changed in new[] { both, onlyTokens })
            {
                using var earlier = changed.narrow(1, 0, j);
                using var reference = baseline.narrow(1, 0, j);
                (earlier - reference).abs().max().item<float>().Should().BeLessThan(1e-6f, $"j = {j}");
            }

            if (j < n)
            {
                using var next = both[0, j];
                using var reference = baseline[0, j];
                (next - reference).abs().max().item<float>().Should().BeGreaterThan(1e-4f, $"f^C_{j + 1} sees ℓ_{j} and s_{m + j}");
                using var nextTokens = onlyTokens[0, j];
                (nextTokens - reference).abs().max().item<float>().Should().BeGreaterThan(1e-4f, $"f^C_{j + 1} sees e_{m + j}");
            }
        }

        Tensor Run(long[] ids, Tensor l)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = tensor(ids, new long[] { 1, ids.Length });
            using var output = pilot.Forward(input);
            int s = m + n - 1;
            var pooled = CopilotMath.PoolHiddenStates(output.LayerStates);
            var memory = cat(new[] { output.Embeddings.narrow(1, 0, s), pooled.narrow(1, 0, s) }, 1);
            var mask = CopilotDecoder.MemoryMask(new[] { m }, new[] { n }, n, s);
            return copilot.TeacherForced(l, memory, mask).MoveToOuterDisposeScope();
        }
    }
}

using System;
using System.Linq;
using FluentAssertions;
using Logits.Diffusion;
using Logits.TorchSharp.Diffusion;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Diffusion;

/// <summary>The time-independent masked-token transformer, its RADD trainer and the denoiser adapter.</summary>
public sealed class MaskedTokenTransformerTests
{
    [Fact]
    public void Forward_returns_normalised_log_probabilities()
    {
        manual_seed(0);
        using var model = MaskedTokenTransformer.Create(vocabulary: 5, length: 6, width: 16, heads: 2, layers: 1);
        using var input = tensor(new long[] { 5, 1, 2, 5, 0, 4, 5, 5, 5, 5, 5, 5 }, new long[] { 2, 6 });
        using var output = model.forward(input);
        output.shape.Should().Equal(2, 6, 5);
        using var sums = output.exp().sum(-1);
        sums.data<float>().ToArray().Should().OnlyContain(s => Math.Abs(s - 1) < 1e-5);
        FluentActions.Invoking(() => MaskedTokenTransformer.Create(5, 6, width: 15, heads: 2)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("width");
        FluentActions.Invoking(() => MaskedTokenTransformer.Create(0, 6)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("vocabulary");
    }

    [Fact]
    public void Trainer_learns_a_deterministic_corpus_and_sampler_reproduces_it()
    {
        manual_seed(1);
        using var model = MaskedTokenTransformer.Create(vocabulary: 3, length: 4, width: 16, heads: 2, layers: 1);
        using var trainer = new RaddTrainer(model, learningRate: 1e-2, seed: 2);
        using var corpus = tensor(Enumerable.Repeat(new long[] { 0, 1, 2, 1 }, 16).SelectMany(x => x).ToArray(), new long[] { 16, 4 });
        double first = trainer.Evaluate(corpus);
        for (int i = 0; i < 150; i++)
        {
            trainer.Step(corpus);
        }

        double last = trainer.Evaluate(corpus);
        last.Should().BeLessThan(first / 10);

        var denoiser = new TorchDenoiser(model);
        var cached = new RaddSampler(16).Sample(denoiser, 4, 4, seed: 5);
        var uncached = new RaddSampler(16, caching: false).Sample(denoiser, 4, 4, seed: 5);
        cached.Tokens.Should().Equal(uncached.Tokens);
        cached.Sequence(0).ToArray().Should().Equal(0, 1, 2, 1);
        cached.FunctionEvaluations.Should().OnlyContain(e => e <= 4);
        model.training.Should().BeTrue("the adapter restores the training mode");
    }
}

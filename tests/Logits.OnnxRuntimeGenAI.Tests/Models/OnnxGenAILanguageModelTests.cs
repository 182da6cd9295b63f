using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Generation;
using Logits.OnnxRuntimeGenAI.Models;
using Logits.OnnxRuntimeGenAI.Onnx;
using Logits.Pipelines;
using Logits.Processing.Constraints;
using Logits.Tensors;
using Microsoft.ML.OnnxRuntimeGenAI;
using Xunit;

namespace Logits.OnnxRuntimeGenAI.Tests.Models;

public class OnnxGenAILanguageModelTests
{
    private static readonly int[] Hello = [SyntheticOnnxModel.EndOfTextId, 'H', 'e', 'l', 'l', 'o'];

    private static float[] Read(OnnxGenAILanguageModel model, params int[][] contexts)
    {
        using var batch = model.CreateLogitBatch(contexts.Length);
        model.NextTokenLogits(contexts.Select(c => (ReadOnlyMemory<int>)c).ToArray(), batch);
        return ((CpuLogitBatch)batch).Memory.ToArray();
    }

    [Fact]
    public void TheVocabularyIsReadFromTheModelsLogits()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model);
        model.VocabSize.Should().Be(300);
        model.MaxRows.Should().Be(1);
    }

    [Fact]
    public void LogitsReadThroughTheAdapterEqualTheDesignedLogitsExactly()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model);

        // A prompt, one more token (KV cache reused), a divergence (rewind), the same context again (fully cached),
        // a shorter context, and a context sharing nothing with the cache.
        int[][] steps =
        [
            Hello,
            [.. Hello, 'x'],
            [.. Hello, 'y', 'z'],
            [.. Hello, 'y', 'z'],
            Hello[..3],
            [97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108],
        ];
        foreach (var context in steps)
        {
            Read(model, context).Should().Equal(loaded.Designed(context), $"the designed weights make every logit exact (context {string.Join(" ", context)})");
        }
    }

    [Fact]
    public void Float16LogitsAreWidenedToTheDesignedValuesRoundedToFloat16()
    {
        var synthetic = SyntheticOnnxModel.Create(new SyntheticOnnxModelOptions { VocabSize = 300, ContextLength = 32, Float16Logits = true });
        var float32Twin = SyntheticOnnxModel.Create(new SyntheticOnnxModelOptions { VocabSize = 300, ContextLength = 32 });
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "logits-onnx-f16-" + Guid.NewGuid().ToString("N"));
        synthetic.Write(folder);
        try
        {
            using var runtime = new Model(folder);
            using var model = new OnnxGenAILanguageModel(runtime);
            foreach (var context in new[] { Hello, [.. Hello, 'x', 'y'] })
            {
                var expected = new float[300];
                synthetic.DesignedLogits(context, expected);
                var unrounded = new float[300];
                float32Twin.DesignedLogits(context, unrounded);
                unrounded.Should().NotEqual(expected, "the check needs logits float16 cannot hold exactly");
                Read(model, context).Should().Equal(expected);
            }
        }
        finally
        {
            System.IO.Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void IncrementalContextsRunOneTokenPerStep()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model);
        Read(model, Hello);
        long before = model.AppendedTokens;
        Read(model, [.. Hello, 'a']);
        Read(model, [.. Hello, 'a', 'b']);
        model.AppendedTokens.Should().Be(before + 2);

        // A changed earlier token rewinds to it: three tokens from position 4 on.
        Read(model, [.. Hello[..4], 'q', 'a', 'b']);
        model.AppendedTokens.Should().Be(before + 5);
    }

    [Fact]
    public void ALongPromptIsAppendedInTwoPassesSoOnlyOneRowOfLogitsIsCopied()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model) { OutputCopyLimit = 3 * 300 };
        long passes = model.ForwardPasses;
        Read(model, Hello).Should().Equal(loaded.Designed(Hello));
        model.ForwardPasses.Should().Be(passes + 2, "six new tokens at V = 300 exceed the limit of three rows");

        int[] next = [.. Hello, 'a', 'b'];
        Read(model, next).Should().Equal(loaded.Designed(next));
        model.ForwardPasses.Should().Be(passes + 3, "two new tokens fit the limit");
    }

    [Fact]
    public void RowsHoldIndependentContextsOfDifferentLengths()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model, maxRows: 3);
        int[] a = Hello;
        int[] b = [SyntheticOnnxModel.EndOfTextId, 'w', 'o', 'r', 'l', 'd', '!', '!'];
        int[] c = [7];
        var rows = Read(model, a, b, c);
        rows.AsSpan(0, 300).ToArray().Should().Equal(loaded.Designed(a));
        rows.AsSpan(300, 300).ToArray().Should().Equal(loaded.Designed(b));
        rows.AsSpan(600, 300).ToArray().Should().Equal(loaded.Designed(c));

        // The rows advance independently; a two-row call after a three-row one reuses rows 0 and 1.
        int[] a2 = [.. a, 'q'];
        int[] b2 = [.. b[..2], 'z'];
        rows = Read(model, a2, b2);
        rows.AsSpan(0, 300).ToArray().Should().Equal(loaded.Designed(a2));
        rows.AsSpan(300, 300).ToArray().Should().Equal(loaded.Designed(b2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void GreedyThroughLogitsEqualsTheRuntimesOwnGreedySearch(int seed)
    {
        var loaded = SyntheticOnnxModels.Get(300, 64, seed);
        int[][] prompts = [Hello, [SyntheticOnnxModel.EndOfTextId, 'a', 'b', 'c'], [42]];
        int longest = 0;
        foreach (var prompt in prompts)
        {
            const int NewTokens = 40;
            var runtime = RuntimeGreedy(loaded.Model, prompt, prompt.Length + NewTokens);

            using var model = new OnnxGenAILanguageModel(loaded.Model);
            var generator = new TokenGenerator(model, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions
            {
                MaxNewTokens = NewTokens,
                EosTokenIds = [SyntheticOnnxModel.EndOfTextId, SyntheticOnnxModel.EndOfTurnId],
            });
            var result = generator.Generate(prompt);

            // Every token the runtime picked, its final EOS included; Logits stops before yielding the EOS.
            if (result.StopReason == StopReason.EndOfSequence)
            {
                result.Tokens.Should().Equal(runtime[..^1], $"seed {seed}, prompt {string.Join(" ", prompt)}");
                runtime[^1].Should().BeOneOf(SyntheticOnnxModel.EndOfTextId, SyntheticOnnxModel.EndOfTurnId);
            }
            else
            {
                result.Tokens.Should().Equal(runtime, $"seed {seed}, prompt {string.Join(" ", prompt)}");
            }

            longest = Math.Max(longest, result.Tokens.Count);
        }

        longest.Should().BeGreaterThan(5, "the comparison must cover real generations, not an immediate EOS");
    }

    [Fact]
    public void APipelineAllowingOnlyAKnownIdSetYieldsOnlyThoseIds()
    {
        var loaded = SyntheticOnnxModels.Small;
        int[] allowed = ['q', 'x', 260, 299];

        // Unconstrained sampling from the same prompt leaves the set: the constraint is what keeps the tokens in it.
        using (var free = new OnnxGenAILanguageModel(loaded.Model))
        {
            var unconstrained = new TokenGenerator(free, LogitPipeline.CreateBuilder().Multinomial(7), new GenerationOptions { MaxNewTokens = 30 }).Generate(Hello);
            unconstrained.Tokens.Should().Contain(t => !allowed.Contains(t));
        }

        using var model = new OnnxGenAILanguageModel(loaded.Model);
        var pipeline = LogitPipeline.CreateBuilder().Add(new AllowedTokensProcessor(allowed)).Multinomial(7);
        var result = new TokenGenerator(model, pipeline, new GenerationOptions { MaxNewTokens = 40 }).Generate(Hello);
        result.Tokens.Should().HaveCount(40);
        result.Tokens.Should().OnlyContain(t => allowed.Contains(t));
        result.Tokens.Distinct().Count().Should().BeGreaterThan(1, "a seeded draw over four allowed ids visits more than one");
    }

    [Fact]
    public void ARowStartsAfreshAfterTheRuntimeRefusesAContext()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model, maxLength: 16);
        var tooLong = Enumerable.Range(1, 17).ToArray();
        var act = () => Read(model, tooLong);
        act.Should().Throw<ArgumentException>().WithParameterName("contexts").WithMessage("*17 tokens*16*");

        Read(model, Hello).Should().Equal(loaded.Designed(Hello));
    }

    [Fact]
    public void BadInputIsRejectedWithTheParameterNamed()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Model, maxRows: 2);
        using var one = model.CreateLogitBatch(1);
        using var wrongVocab = new CpuLogitBatch(1, 299);

        FluentActions.Invoking(() => model.NextTokenLogits([Array.Empty<int>()], one))
            .Should().Throw<ArgumentException>().WithParameterName("contexts").WithMessage("Row 0 is empty*");
        FluentActions.Invoking(() => model.NextTokenLogits([new[] { 1, 300 }], one))
            .Should().Throw<ArgumentException>().WithParameterName("contexts").WithMessage("*id 300 at position 1*");
        FluentActions.Invoking(() => model.NextTokenLogits([new[] { 1 }, new[] { 2 }, new[] { 3 }], model.CreateLogitBatch(2)))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("contexts");
        FluentActions.Invoking(() => model.NextTokenLogits([new[] { 1 }], wrongVocab))
            .Should().Throw<ArgumentException>().WithParameterName("destination");
        FluentActions.Invoking(() => model.CreateLogitBatch(3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("rows");
        FluentActions.Invoking(() => new OnnxGenAILanguageModel(loaded.Model, maxRows: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxRows");
        FluentActions.Invoking(() => new OnnxGenAILanguageModel("no-such-model-folder")).Should().Throw<System.IO.DirectoryNotFoundException>();

        // The failed calls left the model usable.
        Read(model, Hello).Should().Equal(loaded.Designed(Hello));
    }

    [Fact]
    public void TheModelCanBeLoadedFromItsFolderAndTokenizes()
    {
        var loaded = SyntheticOnnxModels.Small;
        using var model = new OnnxGenAILanguageModel(loaded.Path);
        model.Tokenize("hello").Should().Equal('h', 'e', 'l', 'l', 'o');
        Read(model, Hello).Should().Equal(loaded.Designed(Hello));
    }

    private static int[] RuntimeGreedy(Model model, int[] prompt, int maxLength)
    {
        using var parameters = new GeneratorParams(model);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, parameters);
        generator.AppendTokens(prompt);
        // GetNextTokens after each step, since the sequence of ONNX Runtime GenAI 0.20.0 leaves out the final EOS.
        var picked = new List<int>();
        while (!generator.IsDone())
        {
            generator.GenerateNextToken();
            picked.Add(generator.GetNextTokens()[0]);
        }

        return picked.ToArray();
    }
}

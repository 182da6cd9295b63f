using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using LLama;
using LLama.Common;
using LLama.Sampling;
using Logits.Generation;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Models;
using Logits.Pipelines;
using Logits.Processing.Guidance;
using Logits.Tensors;
using Xunit;

namespace Logits.LLamaSharp.Tests.Models;

public class LlamaLanguageModelTests
{
    private static readonly SyntheticLlamaModelOptions Options = new() { ContextStrength = 1.5f, SuccessorStrength = 0.6f, Seed = 3 };

    private static LlamaLanguageModel Create(uint sequences = 1)
    {
        var (path, weights) = SyntheticModels.Get(Options);
        return new LlamaLanguageModel(weights, SyntheticModels.ContextParams(path, sequences, contextSize: 512 * sequences));
    }

    private static float[] Logits(LlamaLanguageModel model, params int[][] contexts)
    {
        using var batch = model.CreateLogitBatch(contexts.Length);
        model.NextTokenLogits(contexts.Select(c => (ReadOnlyMemory<int>)c).ToArray(), batch);
        return batch.ToArray();
    }

    private static int[] RandomContext(int length, int seed)
    {
        var random = new Random(seed);
        return new[] { SpmVocabulary.BosId }.Concat(Enumerable.Range(0, length - 1).Select(_ => random.Next(SpmVocabulary.FirstPieceId, 512))).ToArray();
    }

    [Fact]
    public void IncrementalDecodingGivesTheLogitsOfAFreshContextAndDecodesOneTokenPerStep()
    {
        using var incremental = Create();
        using var fresh = Create();
        var context = RandomContext(40, 1);
        for (int length = 5; length <= context.Length; length++)
        {
            long decodedBefore = incremental.DecodedTokens;
            var step = Logits(incremental, context[..length]);
            if (length > 5)
            {
                (incremental.DecodedTokens - decodedBefore).Should().Be(1, "only the new token is decoded");
            }

            fresh.ResetCache();
            var reference = Logits(fresh, context[..length]);
            // llama.cpp computes a one-token step (matrix-vector) and a whole prompt (matrix-matrix) with different
            // summation orders, so the two agree to float rounding, not bit for bit: 1e-4 relative to the row's scale.
            RelativeDifference(step, reference).Should().BeLessThan(1e-4f, $"prefix length {length}");
        }
    }

    [Fact]
    public void AChangedEarlierTokenChangesLaterLogitsAndIsReDecodedFromThatPoint()
    {
        using var model = Create();
        var context = RandomContext(30, 2);
        var original = Logits(model, context);
        var changed = (int[])context.Clone();
        changed[3] = changed[3] == 400 ? 401 : 400;
        long before = model.DecodedTokens;
        var after = Logits(model, changed);
        (model.DecodedTokens - before).Should().Be(context.Length - 3, "the cache is reused up to the changed position");
        MaxAbsDifference(original, after).Should().BeGreaterThan(1e-2f, "attention carries the earlier token to the last position");

        // Same context again: nothing new to decode but the last token (for its logits).
        before = model.DecodedTokens;
        RelativeDifference(Logits(model, changed), after).Should().BeLessThan(1e-4f);
        (model.DecodedTokens - before).Should().Be(1);
    }

    [Fact]
    public void SeveralRowsDecodeInOneBatchAndEqualEachRowAlone()
    {
        using var batched = Create(sequences: 3);
        using var single = Create();
        var contexts = new[] { RandomContext(12, 4), RandomContext(20, 5), RandomContext(7, 6) };
        long calls = batched.DecodeCalls;
        var together = Logits(batched, contexts);
        (batched.DecodeCalls - calls).Should().Be(1);
        for (int r = 0; r < contexts.Length; r++)
        {
            single.ResetCache();
            var alone = Logits(single, contexts[r]);
            RelativeDifference(together.AsSpan(r * 512, 512).ToArray(), alone).Should().BeLessThan(1e-4f, $"row {r}");
        }
    }

    [Fact]
    public async Task TokenGeneratorGreedyOverTheModelEqualsLLamaSharpsOwnGreedyRun()
    {
        var (path, weights) = SyntheticModels.Get(Options);
        var executor = new StatelessExecutor(weights, SyntheticModels.ContextParams(path));
        foreach (string prompt in new[] { "hello world", "abc def", "q" })
        {
            var reference = new RecordingPipeline(new GreedySamplingPipeline());
            await LlamaTestHelpers.CollectAsync(executor.InferAsync(prompt, new InferenceParams { SamplingPipeline = reference, MaxTokens = 20 }));

            using var model = Create();
            var generator = new TokenGenerator(model, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions { MaxNewTokens = 20 });
            var tokens = new List<int>();
            await foreach (int token in generator.GenerateAsync(model.Tokenize(prompt)))
            {
                tokens.Add(token);
            }

            tokens.Should().Equal(reference.Tokens, $"prompt '{prompt}'");
        }
    }

    [Fact]
    public void GuidanceWithScaleOneEqualsTheUnguidedRunExactly()
    {
        using var plain = Create();
        var prompt = plain.Tokenize("hello world");
        var unguided = new TokenGenerator(plain, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions { MaxNewTokens = 24 }).Generate(prompt).Tokens;

        using var model = Create(sequences: 2);
        var guidance = model.CreateGuidance("abc xyz");
        var pipeline = LogitPipeline.CreateBuilder().Add(new ClassifierFreeGuidanceProcessor(1f, guidance)).Greedy();
        new TokenGenerator(model, pipeline, new GenerationOptions { MaxNewTokens = 24 }).Generate(prompt).Tokens.Should().Equal(unguided);
    }

    [Fact]
    public void GuidanceAboveOneMovesTheTokensAwayFromTheNegativePromptsContinuation()
    {
        using var model = Create(sequences: 2);
        var prompt = model.Tokenize("hello world");
        var negative = model.Tokenize("abc xyz zz");
        var guidance = model.CreateGuidance(new IReadOnlyList<int>[] { negative });

        IReadOnlyList<int> Run(float scale)
        {
            var pipeline = LogitPipeline.CreateBuilder().Add(new ClassifierFreeGuidanceProcessor(scale, guidance)).Greedy();
            return new TokenGenerator(model, pipeline, new GenerationOptions { MaxNewTokens = 16 }).Generate(prompt).Tokens;
        }

        var unguided = Run(1f);
        long calls = model.DecodeCalls;
        long misses = guidance.PrefetchMisses;
        var guided = Run(3f);

        // One decode per step for both sequences, plus the first step's unconditional branch.
        (model.DecodeCalls - calls).Should().Be(16 + 1);
        (guidance.PrefetchMisses - misses).Should().Be(1);
        guided.Should().NotEqual(unguided);

        // How likely each run is as a continuation of the negative prompt, scored on a separate context.
        using var scorer = Create();
        double unguidedScore = NegativeLogLikelihood(scorer, negative, unguided);
        double guidedScore = NegativeLogLikelihood(scorer, negative, guided);
        guidedScore.Should().BeGreaterThan(unguidedScore + 1.0, "guidance must steer away from what the negative prompt predicts");
    }

    [Fact]
    public void SteerWithItsNegativeBranchAndABaseModelRunsAndWithZeroStrengthsEqualsTheUnguidedRun()
    {
        using var expert = Create(sequences: 2);
        var prompt = expert.Tokenize("abc def");
        var unguided = new TokenGenerator(expert, LogitPipeline.CreateBuilder().Greedy(), new GenerationOptions { MaxNewTokens = 12 }).Generate(prompt).Tokens;

        var (basePath, baseWeights) = SyntheticModels.Get(new SyntheticLlamaModelOptions { Seed = 11, ContextStrength = 1.5f, SuccessorStrength = 0.6f });
        using var baseModel = new LlamaLanguageModel(baseWeights, SyntheticModels.ContextParams(basePath));
        var negative = expert.CreateGuidance("zz qq");
        var off = LogitPipeline.CreateBuilder().Add(new SteerProcessor(baseModel.AsLogitSource(), negative, 0f, 0f)).Greedy();
        new TokenGenerator(expert, off, new GenerationOptions { MaxNewTokens = 12 }).Generate(prompt).Tokens.Should().Equal(unguided);

        var steer = LogitPipeline.CreateBuilder().Add(new SteerProcessor(baseModel.AsLogitSource(), negative, 2f, 2f)).Greedy();
        var steered = new TokenGenerator(expert, steer, new GenerationOptions { MaxNewTokens = 12 }).Generate(prompt).Tokens;
        steered.Should().HaveCount(12).And.NotEqual(unguided);
        negative.PrefetchHits.Should().BeGreaterThan(0);
    }

    [Fact]
    public void BadInputIsRejectedWithTheRowNamed()
    {
        using var model = Create(sequences: 2);
        model.Invoking(m => Logits(m, new[] { 1, 600 })).Should().Throw<ArgumentException>().WithMessage("*600*position 1*");
        model.Invoking(m => Logits(m, Array.Empty<int>())).Should().Throw<ArgumentException>().WithMessage("*Row 0*");
        model.Invoking(m => m.CreateLogitBatch(3)).Should().Throw<ArgumentOutOfRangeException>();
        using (var wrong = new CpuLogitBatch(1, 100))
        {
            model.Invoking(m => m.NextTokenLogits(new ReadOnlyMemory<int>[] { new[] { 1, 2 } }, wrong)).Should().Throw<ArgumentException>().WithParameterName("destination");
        }

        model.CreateGuidance("abc");
        model.MaxRows.Should().Be(1);
        model.Invoking(m => m.CreateGuidance("def")).Should().Throw<InvalidOperationException>().WithMessage("*SeqMax*");
        model.Invoking(m => m.CreateGuidance(new IReadOnlyList<int>[] { new[] { 9999 } })).Should().Throw<ArgumentException>();

        // After an error the model still works.
        Logits(model, new[] { 1, 300, 301 }).Should().HaveCount(512);
    }

    private static double NegativeLogLikelihood(LlamaLanguageModel model, int[] prefix, IReadOnlyList<int> tokens)
    {
        double total = 0;
        for (int t = 0; t < tokens.Count; t++)
        {
            var context = prefix.Concat(tokens.Take(t)).ToArray();
            var logits = Logits(model, context);
            double max = logits.Max();
            double logSum = max + Math.Log(logits.Sum(z => Math.Exp(z - max)));
            total -= logits[tokens[t]] - logSum;
        }

        return total;
    }

    private static float MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    /// <summary>The largest difference over the reference row's largest magnitude (at least 1).</summary>
    private static float RelativeDifference(float[] actual, float[] reference) =>
        MaxAbsDifference(actual, reference) / Math.Max(1f, reference.Max(Math.Abs));
}

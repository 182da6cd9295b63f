using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using FluentAssertions;
using LLama;
using LLama.Abstractions;
using LLama.Batched;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.Pipelines;
using Logits.Processing.Penalties;
using Xunit;

namespace Logits.LLamaSharp.Tests.Sampling;

public class LogitsSamplingPipelineTests
{
    private static readonly string[] Prompts = { "hello world", "abc def ghi", "the quick brown fox", "zz", "xyz abc q" };

    private static string ModelPath => SyntheticModels.Get(new SyntheticLlamaModelOptions()).Path;

    private static LogitPipeline Greedy() => LogitPipeline.CreateBuilder().Greedy();

    [Fact]
    public async Task GreedyThroughStatelessExecutorEqualsLLamaSharpsGreedyPipelineOnSeveralPrompts()
    {
        var weights = SyntheticModels.Small;
        var executor = new StatelessExecutor(weights, SyntheticModels.ContextParams(ModelPath));
        foreach (string prompt in Prompts)
        {
            var reference = new RecordingPipeline(new GreedySamplingPipeline());
            using var logits = new LogitsSamplingPipeline(Greedy());
            string expectedText = await LlamaTestHelpers.CollectAsync(executor.InferAsync(prompt, new InferenceParams { SamplingPipeline = reference, MaxTokens = 24 }));
            string actualText = await LlamaTestHelpers.CollectAsync(executor.InferAsync(prompt, new InferenceParams { SamplingPipeline = logits, MaxTokens = 24 }));

            reference.Tokens.Should().HaveCount(24, "the synthetic model does not produce EOS");
            logits.History.ToArray().Should().Equal(reference.Tokens, $"prompt '{prompt}'");
            actualText.Should().Be(expectedText);
        }
    }

    [Fact]
    public async Task GreedyThroughInteractiveAndInstructExecutorsEqualsLLamaSharpsGreedyPipeline()
    {
        var weights = SyntheticModels.Small;
        foreach (bool instruct in new[] { false, true })
        {
            var texts = new List<string>();
            foreach (bool useLogits in new[] { false, true })
            {
                using var context = weights.CreateContext(SyntheticModels.ContextParams(ModelPath));
                ILLamaExecutor executor = instruct ? new InstructExecutor(context) : new InteractiveExecutor(context);
                ISamplingPipeline sampler = useLogits ? new LogitsSamplingPipeline(Greedy()) : new GreedySamplingPipeline();
                var inference = new InferenceParams { SamplingPipeline = sampler, MaxTokens = 16 };
                string first = await LlamaTestHelpers.CollectAsync(executor.InferAsync("abc def", inference));
                string second = await LlamaTestHelpers.CollectAsync(executor.InferAsync(" ghi", inference));
                texts.Add(first + "|" + second);
            }

            texts[1].Should().Be(texts[0], instruct ? "InstructExecutor" : "InteractiveExecutor");
            texts[0].Length.Should().BeGreaterThan(10);
        }
    }

    [Fact]
    public async Task ConversationSampleEqualsLLamaSharpsGreedyPipeline()
    {
        var weights = SyntheticModels.Small;
        var runs = new List<List<int>>();
        foreach (bool useLogits in new[] { false, true })
        {
            using var executor = new BatchedExecutor(weights, SyntheticModels.ContextParams(ModelPath));
            using var conversation = executor.Create();
            conversation.Prompt(executor.Context.Tokenize("hello world", addBos: true, special: true));
            using ISamplingPipeline sampler = useLogits ? new LogitsSamplingPipeline(Greedy()) : new GreedySamplingPipeline();
            var tokens = new List<int>();
            for (int step = 0; step < 12; step++)
            {
                (await executor.Infer()).Should().Be(DecodeResult.Ok);
                var token = conversation.Sample(sampler);
                tokens.Add((int)token);
                conversation.Prompt(token);
            }

            runs.Add(tokens);
        }

        runs[1].Should().Equal(runs[0]);
    }

    [Fact]
    public void PromptScopePenaltiesSeeThePromptOnlyWhenItIsSet()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions { ContextStrength = 0.3f });
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));

        // The last prompt token's designed successor is already in the prompt: a huge prompt-scope repetition penalty
        // must steer away from it, and only when the pipeline knows the prompt.
        int last = SpmVocabulary.FirstPieceId + 40;
        int[] prompt = { SpmVocabulary.BosId, SyntheticLlamaModel.Successor(last, 512), last };
        LogitPipeline Penalized() => LogitPipeline.CreateBuilder()
            .Add(new RepetitionPenaltyProcessor(1e6, PenaltyScope.PromptAndOutput))
            .Greedy();

        using var unaware = new LogitsSamplingPipeline(Penalized());
        using var aware = new LogitsSamplingPipeline(Penalized());
        aware.SetPrompt(prompt);

        LlamaTestHelpers.Generate(context, prompt, unaware, 1)[0].Should().Be(prompt[1], "without the prompt the penalty has nothing to penalise");
        LlamaTestHelpers.Generate(context, prompt, aware, 1)[0].Should().NotBe(prompt[1], "the penalised prompt token must not be chosen");
    }

    [Fact]
    public void ResetRepeatsASeededRunAndCloneContinuesIdentically()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions { SuccessorStrength = 0.3f });
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        int[] prompt = LlamaTestHelpers.Tokenize(context, "abc");
        using var sampler = new LogitsSamplingPipeline(LogitPipeline.CreateBuilder().Temperature(1.5f).Multinomial(123));
        sampler.SetPrompt(prompt);

        var first = LlamaTestHelpers.Generate(context, prompt, sampler, 20);
        sampler.Reset();
        sampler.History.Length.Should().Be(prompt.Length, "Reset keeps the prompt and forgets the sampled tokens");
        var second = LlamaTestHelpers.Generate(context, prompt, sampler, 20);
        second.Should().Equal(first);
        first.Distinct().Count().Should().BeGreaterThan(5, "at T = 1.5 on a weak successor design the draws vary");

        // Clone after 20 tokens: the clone and the original draw the same continuation from the same logits.
        using var clone = sampler.Clone();
        clone.History.ToArray().Should().Equal(sampler.History.ToArray());
        // The context still holds the logits after the last sampled token (batch index 0 of the last decode).
        const int index = 0;
        clone.Sample(context.NativeHandle, index).Should().Be(sampler.Sample(context.NativeHandle, index));
    }

    [Fact]
    public void AcceptAppendsAnExternalTokenAndApplyProcessesCandidatesWithoutSelecting()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        using var sampler = new LogitsSamplingPipeline(LogitPipeline.CreateBuilder().TopK(3).Greedy());
        sampler.SetPrompt(new[] { 1, 300 });
        sampler.Accept(301);
        sampler.History.ToArray().Should().Equal(1, 300, 301);
        sampler.PromptLength.Should().Be(2);

        var data = new LLamaTokenData[6];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = new LLamaTokenData(400 + i, i, 0);
        }

        sampler.Apply(context.NativeHandle, new LLamaTokenDataArray(data));
        data.Select(d => d.Logit).Should().Equal(float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 3, 4, 5);
        sampler.Invoking(s => s.Accept(-1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task TheModelsEndOfSequenceIdReachesTheProcessorsThatReadIt()
    {
        // The EOS ids have one source, the SamplingContext; the adapter fills it from the model's vocabulary.
        var weights = SyntheticModels.Small;
        var executor = new StatelessExecutor(weights, SyntheticModels.ContextParams(ModelPath));
        using var forced = new LogitsSamplingPipeline(LogitPipeline.CreateBuilder().ForcedEos(3).Greedy());
        await LlamaTestHelpers.CollectAsync(executor.InferAsync("hello world", new InferenceParams { SamplingPipeline = forced, MaxTokens = 8 }));
        forced.History.Length.Should().BeGreaterThanOrEqualTo(3);
        forced.History.Span[2].Should().Be(SpmVocabulary.EosId, "the third token is forced to the model's EOS");

        var (path, model) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = model.CreateContext(SyntheticModels.ContextParams(path));
        using var sampler = new LogitsSamplingPipeline(LogitPipeline.CreateBuilder().ForcedEos(3).Greedy());
        sampler.SetPrompt(new[] { 1, 300 });
        var data = Enumerable.Range(0, 6).Select(i => new LLamaTokenData(i, i, 0)).ToArray();
        sampler.Apply(context.NativeHandle, new LLamaTokenDataArray(data));
        data.Select(d => d.Logit).Should().Equal(float.NegativeInfinity, float.NegativeInfinity, 0f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity);
    }
}

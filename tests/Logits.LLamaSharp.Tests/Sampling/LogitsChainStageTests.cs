using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using LLama.Native;
using Logits.LLamaSharp.Gguf;
using Logits.LLamaSharp.Sampling;
using Logits.Processing.Constraints;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Xunit;

namespace Logits.LLamaSharp.Tests.Sampling;

public class LogitsChainStageTests
{
    public LogitsChainStageTests() => SyntheticModels.EnsureNativeLoaded();

    private static readonly int[] Allowed = { 301, 333, 401, 477 };

    [Fact]
    public void AnAllowedSetStageBeforeLlamaCppGreedyYieldsOnlyIdsFromTheSet()
    {
        var (path, weights) = SyntheticModels.Get(new SyntheticLlamaModelOptions());
        using var context = weights.CreateContext(SyntheticModels.ContextParams(path));
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        var stage = chain.AddLogits(weights.Vocab.Count, new AllowedTokensProcessor(Allowed));
        chain.AddGreedySampler();

        var prompt = LlamaTestHelpers.Tokenize(context, "hello world");
        stage.SetPrompt(prompt);
        var batch = new LLamaBatch();
        int index = LlamaTestHelpers.DecodePrompt(context, prompt, batch);
        var tokens = new List<int>();
        for (int step = 0; step < 20; step++)
        {
            int token = (int)chain.Sample(context.NativeHandle, index, stage);
            tokens.Add(token);
            index = LlamaTestHelpers.DecodeOne(context, token, prompt.Length + step, batch);
        }

        tokens.Should().OnlyContain(t => Allowed.Contains(t));
        tokens.Distinct().Count().Should().BeGreaterThan(1, "the model's preference among the allowed ids changes with the context");
        stage.History.ToArray().Should().Equal(prompt.Concat(tokens), "llama_sampler_sample accepts every sampled token into the chain");

        // Without the stage llama.cpp's greedy picks ids outside the set.
        using var plain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        plain.AddGreedySampler();
        LlamaTestHelpers.Generate(context, prompt, new ChainPipeline(plain), 5).Should().Contain(t => !Allowed.Contains(t));
    }

    [Fact]
    public void SortedTruncatedCandidatesAreMappedToFullRowsAndBack()
    {
        const int Vocab = 1000;
        var random = new Random(5);
        var row = Enumerable.Range(0, Vocab).Select(_ => (float)(random.NextDouble() * 10)).ToArray();

        // What llama.cpp's top-k 10 hands the next stage: the 10 best, sorted, truncated.
        var top = Enumerable.Range(0, Vocab).OrderByDescending(i => row[i]).Take(10).ToArray();
        var data = top.Select(i => new LLamaTokenData(i, row[i], 0)).ToArray();

        // A bias that lifts the 9th candidate over all others and removes the 2nd: order changes, one is dropped.
        var bias = new Dictionary<int, double> { [top[8]] = 100, [top[1]] = double.NegativeInfinity };
        var stage = new LogitsChainStage(Vocab, new[] { new LogitBiasProcessor(bias) });
        var (kept, size, sorted) = Apply(stage, data, sorted: true);

        size.Should().Be(9);
        kept.Select(d => (int)d.ID).Should().Equal(top.Where((_, i) => i != 1), "kept candidates stay in their order");
        kept.Single(d => (int)d.ID == top[8]).Logit.Should().Be(row[top[8]] + 100f);
        kept.Where(d => (int)d.ID != top[8]).Select(d => d.Logit).Should().Equal(top.Where((_, i) => i != 1 && i != 8).Select(i => row[i]));
        sorted.Should().BeFalse("the lifted candidate now precedes candidates that are ahead of it");
        stage.Fault.Should().BeNull();

        // An order-preserving stage (temperature) keeps the sorted flag; an unsorted input stays unsorted.
        var warm = new LogitsChainStage(Vocab, new[] { new TemperatureProcessor(0.5f) });
        var (scaled, scaledSize, stillSorted) = Apply(warm, data, sorted: true);
        scaledSize.Should().Be(10);
        stillSorted.Should().BeTrue();
        scaled.Select(d => d.Logit).Should().Equal(top.Select(i => row[i] / 0.5f));
        Apply(warm, data, sorted: false).Sorted.Should().BeFalse();
    }

    [Fact]
    public void ATopKStageInsideALlamaCppChainMatchesTheSameCutDoneByHand()
    {
        const int Vocab = 700;
        var random = new Random(9);
        var row = Enumerable.Range(0, Vocab).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddTopK(50);                                  // llama.cpp sorts and truncates to 50
        var stage = chain.AddLogits(Vocab, new TopKProcessor(5)); // Logits keeps the 5 best of those
        chain.AddGreedySampler();

        var data = row.Select((logit, id) => new LLamaTokenData(id, logit, 0)).ToArray();
        var array = new LLamaTokenDataArray(data, false);
        using (LLamaTokenDataArrayNative.Create(array, out var native))
        {
            chain.Apply(ref native);
            stage.ThrowIfFaulted();
            ((int)native.Size).Should().Be(5);
            native.Data.ToArray().Select(d => (int)d.ID).Should().BeEquivalentTo(Enumerable.Range(0, Vocab).OrderByDescending(i => row[i]).Take(5));
            ((int)native.Data[(int)native.Selected].ID).Should().Be(Array.IndexOf(row, row.Max()));
        }
    }

    [Fact]
    public void AFailureInsideTheChainIsKeptAndRethrownAndTheCandidatesAreLeftAsTheyArrived()
    {
        var stage = new LogitsChainStage(100, new[] { new AllowedTokensProcessor(new[] { 99 }) });
        var data = new[] { new LLamaTokenData(3, 1f, 0), new LLamaTokenData(250, 2f, 0) };
        var (kept, size, _) = Apply(stage, data, sorted: false);
        size.Should().Be(2);
        kept.Should().Equal(data);
        stage.Fault.Should().BeOfType<ArgumentException>().Which.Message.Should().Contain("250");
        stage.Invoking(s => s.ThrowIfFaulted()).Should().Throw<LogitsChainStageException>().WithInnerException<ArgumentException>();
        stage.Fault.Should().BeNull();

        // Every candidate removed: kept as a NoViableTokenException.
        Apply(stage, new[] { new LLamaTokenData(3, 1f, 0) }, sorted: false);
        stage.Invoking(s => s.ThrowIfFaulted()).Should().Throw<LogitsChainStageException>().WithInnerException<NoViableTokenException>();

        // NaN from the model names the input stage.
        Apply(stage, new[] { new LLamaTokenData(99, float.NaN, 0) }, sorted: false);
        stage.Invoking(s => s.ThrowIfFaulted()).Should().Throw<LogitsChainStageException>().WithInnerException<InvalidLogitsException>();

        stage.Invoking(s => s.SetPrompt(new[] { 100 })).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => new LogitsChainStage(0, Array.Empty<Logits.Processing.ILogitProcessor>())).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("vocabSize");
    }

    [Fact]
    public void ClonesCarryTheHistoryAndAChainCloneOfTheStageStillProcesses()
    {
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        var stage = chain.AddLogits(100, new TopKProcessor(2));
        stage.SetPrompt(new[] { 1, 2 });
        chain.Accept(7);
        var clone = (LogitsChainStage)stage.Clone();
        chain.Accept(8);
        stage.History.ToArray().Should().Equal(1, 2, 7, 8);
        clone.History.ToArray().Should().Equal(1, 2, 7);
        chain.Reset();
        stage.History.ToArray().Should().Equal(1, 2);

        // llama.cpp's own clone (llama_sampler_clone through the chain) goes through ICustomSampler.Clone.
        using var copy = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        copy.AddClone(chain, 0);
        var data = new[] { new LLamaTokenData(5, 1f, 0), new LLamaTokenData(6, 3f, 0), new LLamaTokenData(7, 2f, 0) };
        using (LLamaTokenDataArrayNative.Create(new LLamaTokenDataArray(data, false), out var native))
        {
            copy.Apply(ref native);
            native.Data.ToArray().Select(d => (int)d.ID).Should().Equal(6, 7);
        }

        clone.Dispose();
    }

    [Fact]
    public void TheStagesEndOfSequenceIdsReachTheProcessorsAndItsClones()
    {
        var stage = new LogitsChainStage(10, new[] { new Logits.Processing.Constraints.MinNewTokensProcessor(2) });
        var data = new[] { new LLamaTokenData(3, 1f, 0), new LLamaTokenData(4, 2f, 0) };

        // No EOS ids yet: the processor's error is kept and rethrown, naming what is missing.
        Apply(stage, data, sorted: false);
        stage.Invoking(s => s.ThrowIfFaulted()).Should().Throw<LogitsChainStageException>().WithInnerException<InvalidOperationException>();

        stage.SetEndOfSequence(new[] { 4 });
        stage.EosTokenIds.Should().Equal(4);
        var (kept, size, _) = Apply(stage, data, sorted: false);
        stage.ThrowIfFaulted();
        size.Should().Be(1);
        kept.Single().ID.Should().Be((LLamaToken)3);
        ((LogitsChainStage)stage.Clone()).EosTokenIds.Should().Equal(4);
        stage.Invoking(s => s.SetEndOfSequence(new[] { 10 })).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("eosTokenIds");
    }

    private static (LLamaTokenData[] Kept, int Size, bool Sorted) Apply(LogitsChainStage stage, LLamaTokenData[] candidates, bool sorted)
    {
        var copy = (LLamaTokenData[])candidates.Clone();
        var array = new LLamaTokenDataArray(copy, sorted);
        using var pin = LLamaTokenDataArrayNative.Create(array, out var native);
        stage.Apply(ref native);
        int size = (int)native.Size;
        return (copy.Take(size).ToArray(), size, native.Sorted);
    }

    /// <summary>A llama.cpp chain as an ISamplingPipeline (for the comparison run).</summary>
    private sealed class ChainPipeline(SafeLLamaSamplerChainHandle chain) : LLama.Sampling.ISamplingPipeline
    {
        public LLamaToken Sample(SafeLLamaContextHandle ctx, int index) => chain.Sample(ctx, index);

        public void Apply(SafeLLamaContextHandle ctx, LLamaTokenDataArray data) => throw new NotSupportedException();

        public void Reset() => chain.Reset();

        public void Accept(LLamaToken token) => chain.Accept(token);

        public void Dispose()
        {
        }
    }
}

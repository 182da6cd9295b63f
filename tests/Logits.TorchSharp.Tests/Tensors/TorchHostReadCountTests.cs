using System;
using System.Collections.Generic;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Truncation;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>
/// Device-to-host transfers per pipeline <c>Sample</c> call on a torch batch, counted by the one helper every
/// transfer of the torch kernels, batches and selectors goes through (<see cref="TorchHostReads"/>). On a GPU each
/// transfer is a synchronisation. Every processor and selector of the pipeline builder that needs no other model (CFG,
/// STEER and Copilot rectification take a second model's logits) is run in a chain whose <c>Sample</c> call makes
/// exactly one transfer: the selected tokens, carrying the batch's deferred checks. A regression fails.
/// </summary>
public sealed class TorchHostReadCountTests
{
    private const int Rows = 2;
    private const int Vocab = 1000;

    private readonly ITestOutputHelper _output;

    public TorchHostReadCountTests(ITestOutputHelper output) => _output = output;

    /// <summary>
    /// Every chain of the builder's processors and selectors that needs no other model: each <c>Sample</c> call makes
    /// exactly one host read (the tokens, with the deferred checks), so one more read anywhere fails.
    /// </summary>
    public static TheoryData<string> Chains()
    {
        var data = new TheoryData<string>();
        foreach (string chain in ChainNames)
        {
            data.Add(chain);
        }

        return data;
    }

    private static readonly string[] ChainNames =
    {
        "default", "greedy", "multinomial", "gumbel", "mirostat-v1", "mirostat-v2",
        "top-k", "top-k exact", "top-p", "top-p hf-complement", "min-p", "min-p keep 3", "typical", "typical strict keep 3",
        "epsilon", "eta", "eta keep 3", "top-n-sigma", "xtc",
        "temperature", "temperature greedy", "dynamic-temperature",
        "repetition-penalty", "frequency-presence-penalty", "penalties", "penalties normalized", "dry", "no-repeat-ngram",
        "logit-bias", "sequence-bias", "bad-words", "allowed-tokens", "allowed-tokens callback", "min-length", "min-new-tokens",
        "forced-bos", "forced-eos", "exponential-decay-length-penalty", "logit-normalization", "suppress-tokens",
        "suppress-tokens-at-begin",
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void A_sample_call_makes_one_host_read(string chain)
    {
        var pipeline = Build(chain);

        // Finite logits everywhere, so an allow-list or a ban never empties a row.
        var rng = new Random(17);
        var data = new float[Rows * Vocab];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)((rng.NextDouble() * 8) - 4);
        }

        var contexts = SamplingContext.ForRows(Rows, new[] { 2 });
        foreach (var context in contexts)
        {
            // Repeats for the penalties, DRY and n-gram bans; 9 tokens, 7 of them output.
            context.SetHistory(new[] { 3, 5, 7, 11, 3, 5, 7, 3, 5 }, 2);
        }

        var tokens = new int[Rows];
        using var batch = TorchLogitBatch.FromArray(data, Rows, Vocab);

        // The first call pays for lazy initialisation only; it is counted like the others.
        long[] counts = new long[3];
        for (int call = 0; call < counts.Length; call++)
        {
            batch.CopyFrom(data);
            long before = TorchHostReads.Count;
            pipeline.Sample(batch, contexts, tokens);
            counts[call] = TorchHostReads.Count - before;
            Assert.All(tokens, t => Assert.InRange(t, 0, Vocab - 1));
        }

        _output.WriteLine($"{chain}: {string.Join(", ", counts)} host reads per Sample call");
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    /// <summary>
    /// The checks a torch batch defers inside a pipeline call (entry, scale overflow, scatter-add overflow) throw the
    /// exception the CPU backend throws eagerly: same type, row, token and stage.
    /// </summary>
    [Theory]
    [InlineData("entry NaN, default chain")]
    [InlineData("entry +inf, greedy")]
    [InlineData("entry NaN, Process")]
    [InlineData("temperature overflow")]
    [InlineData("bias overflow")]
    public void Deferred_checks_throw_what_the_cpu_backend_throws(string scenario)
    {
        var data = LogitData.Random(Rows, Vocab, 19);
        LogitPipeline pipeline;
        bool process = false;
        switch (scenario)
        {
            case "entry NaN, default chain":
                data[Vocab + 7] = float.NaN;
                data[Vocab + 9] = float.PositiveInfinity;
                pipeline = Build("default");
                break;
            case "entry +inf, greedy":
                data[Vocab + 3] = float.PositiveInfinity;
                pipeline = Build("greedy");
                break;
            case "entry NaN, Process":
                data[11] = float.NaN;
                pipeline = Build("default");
                process = true;
                break;
            case "temperature overflow":
                data[Vocab + 5] = 3e38f;
                data[Vocab + 8] = 3.1e38f;
                pipeline = LogitPipeline.CreateBuilder().TopK(40).Temperature(0.5).Multinomial(42);
                break;
            default:
                data[Vocab + 6] = 3.3e38f;
                pipeline = LogitPipeline.CreateBuilder().LogitBias(new Dictionary<int, double> { [6] = 3e38 }).Multinomial(42);
                break;
        }

        var contexts = SamplingContext.ForRows(Rows);
        var tokens = new int[Rows];
        using var cpu = Logits.Tensors.CpuLogitBatch.FromRows(data, Rows, Vocab);
        using var torchBatch = TorchLogitBatch.FromArray(data, Rows, Vocab);
        Exception Run(Logits.Tensors.LogitBatch batch) => Assert.ThrowsAny<Exception>(() =>
        {
            if (process)
            {
                pipeline.Process(batch, contexts);
            }
            else
            {
                pipeline.Sample(batch, contexts, tokens);
            }
        });

        var expected = Assert.IsType<InvalidLogitsException>(Run(cpu));
        var actual = Assert.IsType<InvalidLogitsException>(Run(torchBatch));
        _output.WriteLine($"{scenario}: cpu ({expected.Row}, {expected.TokenIndex}, {expected.Value}, {expected.Stage}), torch ({actual.Row}, {actual.TokenIndex}, {actual.Value}, {actual.Stage})");
        Assert.Equal((expected.Row, expected.TokenIndex, expected.Stage), (actual.Row, actual.TokenIndex, actual.Stage));
        Assert.Equal(expected.Value, actual.Value);

        // The batch is usable again: the next call on valid logits samples.
        torchBatch.CopyFrom(LogitData.Random(Rows, Vocab, 20));
        Build("default").Sample(torchBatch, contexts, tokens);
        Assert.All(tokens, t => Assert.InRange(t, 0, Vocab - 1));
    }

    /// <summary>
    /// Inside a pipeline call, log-softmax keeps the maxima on the device and defers its empty-row check: no read at the
    /// call, then the batch's next read throws what the eager kernel throws (row and stage).
    /// </summary>
    [Fact]
    public void Log_softmax_defers_its_empty_row_check_to_the_next_read()
    {
        var data = LogitData.Random(3, Vocab, 29);
        Array.Fill(data, float.NegativeInfinity, Vocab, Vocab);
        Array.Fill(data, float.NegativeInfinity, 2 * Vocab, Vocab);
        using var eager = TorchLogitBatch.FromArray(data, 3, Vocab);
        var expected = Assert.Throws<NoViableTokenException>(() => eager.Kernels.LogSoftmax(eager, eager));

        using var batch = TorchLogitBatch.FromArray(data, 3, Vocab);
        batch.EnterPipelineCall();
        try
        {
            batch.CheckEntriesForPipeline();
            long before = TorchHostReads.Count;
            batch.Kernels.LogSoftmax(batch, batch);
            Assert.Equal(before, TorchHostReads.Count);
            Assert.True(batch.HasPendingChecks);
            var actual = Assert.Throws<NoViableTokenException>(() => batch.Kernels.ArgMax(batch, new int[3]));
            Assert.Equal((expected.Row, expected.Stage), (actual.Row, actual.Stage));
            Assert.Equal((1, "log-softmax"), (actual.Row, actual.Stage));
        }
        finally
        {
            batch.ExitPipelineCall();
        }
    }

    /// <summary>
    /// A row that is all <c>-∞</c> on entry passes unchanged through every step (the empty-row guard, kept on the device
    /// inside a pipeline call) and the other rows are processed as on the CPU; <c>Sample</c> then throws the CPU backend's
    /// <see cref="NoViableTokenException"/> for that row.
    /// </summary>
    [Theory]
    [MemberData(nameof(Chains))]
    public void An_empty_row_passes_through_as_on_the_cpu(string chain)
    {
        var data = LogitData.Random(Rows, Vocab, 23);
        Array.Fill(data, float.NegativeInfinity, Vocab, Vocab);
        var contexts = SamplingContext.ForRows(Rows, new[] { 2 });
        foreach (var context in contexts)
        {
            context.SetHistory(new[] { 3, 5, 7, 11, 3, 5, 7, 3, 5 }, 2);
        }

        using var cpu = Logits.Tensors.CpuLogitBatch.FromRows(data, Rows, Vocab);
        using var torchBatch = TorchLogitBatch.FromArray(data, Rows, Vocab);
        Build(chain).Process(cpu, contexts);
        Build(chain).Process(torchBatch, contexts);
        var expected = cpu.ToArray();
        var actual = torchBatch.ToArray();
        Assert.All(actual.AsSpan(Vocab, Vocab).ToArray(), v => Assert.Equal(float.NegativeInfinity, v));
        for (int i = 0; i < Vocab; i++)
        {
            float tolerance = float.IsFinite(expected[i]) ? 1e-5f * Math.Max(1, Math.Abs(expected[i])) : 0;
            Assert.True(expected[i] == actual[i] || Math.Abs(expected[i] - actual[i]) <= tolerance, $"{chain}: token {i}: cpu {expected[i]}, torch {actual[i]}");
        }

        var tokens = new int[Rows];
        torchBatch.CopyFrom(data);
        cpu.CopyFrom(data);
        var cpuError = Assert.Throws<NoViableTokenException>(() => Build(chain).Sample(cpu, contexts, tokens));
        var torchError = Assert.Throws<NoViableTokenException>(() => Build(chain).Sample(torchBatch, contexts, tokens));
        Assert.Equal((cpuError.Row, cpuError.Stage), (torchError.Row, torchError.Stage));
    }

    private static LogitPipeline Build(string chain) => chain switch
    {
        "default" => LogitPipeline.CreateBuilder().TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8).Multinomial(42),
        "greedy" => LogitPipeline.CreateBuilder().Greedy(),
        "multinomial" => LogitPipeline.CreateBuilder().Multinomial(42),
        "gumbel" => LogitPipeline.CreateBuilder().TopK(50).Gumbel(42),
        "mirostat-v1" => LogitPipeline.CreateBuilder().MirostatV1(42),
        "mirostat-v2" => LogitPipeline.CreateBuilder().MirostatV2(42),
        "top-k" => LogitPipeline.CreateBuilder().TopK(40).Multinomial(42),
        "top-k exact" => LogitPipeline.CreateBuilder().TopK(40, tieMode: TopKTieMode.ExactK).Multinomial(42),
        "top-p" => LogitPipeline.CreateBuilder().TopP(0.9).Multinomial(42),
        "top-p hf-complement" => LogitPipeline.CreateBuilder().TopP(0.9, mode: TopPMode.HfComplement).Multinomial(42),
        "min-p" => LogitPipeline.CreateBuilder().MinP(0.05).Multinomial(42),
        "min-p keep 3" => LogitPipeline.CreateBuilder().MinP(0.05, minTokensToKeep: 3).Multinomial(42),
        "typical" => LogitPipeline.CreateBuilder().Typical(0.9).Multinomial(42),
        "typical strict keep 3" => LogitPipeline.CreateBuilder().Typical(0.5, 3, TypicalBoundary.Strict).Multinomial(42),
        "epsilon" => LogitPipeline.CreateBuilder().Epsilon(0.0003).Multinomial(42),
        "eta" => LogitPipeline.CreateBuilder().Eta(0.0009).Multinomial(42),
        "eta keep 3" => LogitPipeline.CreateBuilder().Eta(0.0009, minTokensToKeep: 3).Multinomial(42),
        "top-n-sigma" => LogitPipeline.CreateBuilder().TopNSigma(1.0).Multinomial(42),
        "xtc" => LogitPipeline.CreateBuilder().Xtc(1.0, 0.001, 7).Multinomial(42),
        "temperature" => LogitPipeline.CreateBuilder().Temperature(0.7).Multinomial(42),
        "temperature greedy" => LogitPipeline.CreateBuilder().Temperature(0.0).Multinomial(42),
        "dynamic-temperature" => LogitPipeline.CreateBuilder().DynamicTemperature(0.8, 0.5).Multinomial(42),
        "repetition-penalty" => LogitPipeline.CreateBuilder().RepetitionPenalty(1.3).Multinomial(42),
        "frequency-presence-penalty" => LogitPipeline.CreateBuilder().FrequencyPresencePenalty(0.2, 0.3).Multinomial(42),
        "penalties" => LogitPipeline.CreateBuilder().Penalties(1.1, 0.2, 0.3).Multinomial(42),
        "penalties normalized" => LogitPipeline.CreateBuilder().Penalties(1.1, 0.2, 0.3, normalizeFirst: true).Multinomial(42),
        "dry" => LogitPipeline.CreateBuilder().Dry(0.8).Multinomial(42),
        "no-repeat-ngram" => LogitPipeline.CreateBuilder().NoRepeatNGram(2).Multinomial(42),
        "logit-bias" => LogitPipeline.CreateBuilder().LogitBias(new Dictionary<int, double> { [6] = 2.5, [9] = -1 }).Multinomial(42),
        "sequence-bias" => LogitPipeline.CreateBuilder().SequenceBias(new[] { new SequenceBias(new[] { 5, 7 }, -3), new SequenceBias(new[] { 9 }, 1.5) }).Multinomial(42),
        "bad-words" => LogitPipeline.CreateBuilder().BadWords(new[] { new[] { 5, 7 }, new[] { 13 } }).Multinomial(42),
        "allowed-tokens" => LogitPipeline.CreateBuilder().AllowedTokens(new[] { 1, 4, 9, 16, 25 }).Multinomial(42),
        "allowed-tokens callback" => LogitPipeline.CreateBuilder().AllowedTokens((row, history) => new[] { row, 10 + row, 20 }).Multinomial(42),
        "min-length" => LogitPipeline.CreateBuilder().MinLength(20).Multinomial(42),
        "min-new-tokens" => LogitPipeline.CreateBuilder().MinNewTokens(20).Multinomial(42),
        "forced-bos" => LogitPipeline.CreateBuilder().ForcedBos(1).Multinomial(42),
        "forced-eos" => LogitPipeline.CreateBuilder().ForcedEos(10).Multinomial(42),
        "exponential-decay-length-penalty" => LogitPipeline.CreateBuilder().ExponentialDecayLengthPenalty(2, 1.1).Multinomial(42),
        "logit-normalization" => LogitPipeline.CreateBuilder().LogitNormalization().Multinomial(42),
        "suppress-tokens" => LogitPipeline.CreateBuilder().SuppressTokens(new[] { 0, 2, 4 }).Multinomial(42),
        "suppress-tokens-at-begin" => LogitPipeline.CreateBuilder().SuppressTokensAtBegin(new[] { 2 }, 9).Multinomial(42),
        _ => throw new ArgumentOutOfRangeException(nameof(chain), chain, "unknown chain"),
    };
}

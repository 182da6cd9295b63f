using System;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>
/// Device-to-host transfers per pipeline <c>Sample</c> call on a torch batch, counted by the one helper every
/// transfer of the torch kernels, batches and selectors goes through (<see cref="TorchHostReads"/>). On a GPU each
/// transfer is a synchronisation; the bounds below are what the backend reaches, so a regression fails.
/// </summary>
public sealed class TorchHostReadCountTests
{
    private const int Rows = 2;
    private const int Vocab = 1000;

    private readonly ITestOutputHelper _output;

    public TorchHostReadCountTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, int> Chains() => new()
    {
        { "default", 1 },
        { "greedy", 1 },
        { "penalties", 2 },
        { "typical", 3 },
        { "eta", 3 },
        { "top-n-sigma", 3 },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void A_sample_call_makes_at_most_the_counted_host_reads(string chain, int bound)
    {
        var pipeline = Build(chain);
        var data = LogitData.Random(Rows, Vocab, 17);
        var contexts = SamplingContext.ForRows(Rows);
        foreach (var context in contexts)
        {
            context.SetHistory(new[] { 3, 5, 5, 7, 11, 3 }, 2);
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
        Assert.All(counts, c => Assert.InRange(c, 1, bound));
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
                pipeline = LogitPipeline.CreateBuilder().LogitBias(new System.Collections.Generic.Dictionary<int, double> { [6] = 3e38 }).Multinomial(42);
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

    private static LogitPipeline Build(string chain) => chain switch
    {
        "default" => LogitPipeline.CreateBuilder().TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8).Multinomial(42),
        "greedy" => LogitPipeline.CreateBuilder().Greedy(),
        "penalties" => LogitPipeline.CreateBuilder().Penalties(1.1, 0.2, 0.3).Multinomial(42),
        "typical" => LogitPipeline.CreateBuilder().Typical(0.9).Multinomial(42),
        "eta" => LogitPipeline.CreateBuilder().Eta(0.0009).Multinomial(42),
        "top-n-sigma" => LogitPipeline.CreateBuilder().TopNSigma(1.0).Multinomial(42),
        _ => throw new ArgumentOutOfRangeException(nameof(chain), chain, "unknown chain"),
    };
}

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
        { "default", 2 },
        { "greedy", 1 },
        { "penalties", 2 },
        { "typical", 99 },
        { "eta", 99 },
        { "top-n-sigma", 99 },
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

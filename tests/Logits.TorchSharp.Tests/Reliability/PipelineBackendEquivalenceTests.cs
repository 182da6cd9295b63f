using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Randomness;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Reliability;

/// <summary>
/// Determinism across backends (issue 9): the same logits, the same pipeline definition and the same
/// seed give the same token on the CPU and TorchSharp backends, row by row.
/// </summary>
/// <remarks>
/// <c>BackendEquivalenceTests</c> compares each kernel, including <c>Sample</c> with given uniforms; this
/// compares whole pipelines (penalties over histories, truncation, temperature, the seeded selector's own
/// uniforms). The backends compute the kept logits within 1e-5 relative, not bit for bit, so a row may
/// legitimately get a different token when its uniform <c>u</c> falls within rounding distance of a CDF
/// step: where the tokens differ, the test recomputes the step distance in double precision on both
/// backends' processed rows (<see cref="ReferenceKernels.Sample"/>) and counts the row as a boundary
/// case only when it is below 1e-6; any other difference fails. Boundary cases are counted and bounded
/// (at most 1 % of the rows), never skipped silently.
/// </remarks>
public sealed class PipelineBackendEquivalenceTests
{
    private const int Rows = 200;
    private const int Vocab = 32000;
    private const double BoundaryDistance = 1e-6;

    public static TheoryData<string> Pipelines => new() { "llama.cpp", "hugging-face", "custom", "plain-multinomial" };

    [Theory]
    [MemberData(nameof(Pipelines))]
    public void The_same_pipeline_and_seed_give_the_same_tokens_on_both_backends(string name)
    {
        const ulong seed = 4242;
        var data = LogitData.Random(Rows, Vocab, 1234);
        var rng = new Random(77);
        var contexts = SamplingContext.ForRows(Rows);
        for (int r = 0; r < Rows; r++)
        {
            // Histories from a small pool, so the penalties and n-gram bans act on repeated tokens.
            var history = Enumerable.Range(0, 40).Select(_ => rng.Next(200)).ToArray();
            contexts[r].SetHistory(history, 20);
        }

        var cpuPipeline = Create(name, seed);
        var torchPipeline = Create(name, seed);

        // Clones taken before sampling hold the same stream positions; they process copies for the diagnosis.
        var cpuProcessed = Processed(cpuPipeline.Clone(), CpuLogitBatch.FromRows(data, Rows, Vocab), contexts);
        var torchProcessed = Processed(torchPipeline.Clone(), TorchLogitBatch.FromArray(data, Rows, Vocab), contexts);

        var cpuTokens = new int[Rows];
        var torchTokens = new int[Rows];
        using (var cpu = CpuLogitBatch.FromRows(data, Rows, Vocab))
        {
            cpuPipeline.Sample(cpu, contexts, cpuTokens);
        }

        using (var torchBatch = TorchLogitBatch.FromArray(data, Rows, Vocab))
        {
            torchPipeline.Sample(torchBatch, contexts, torchTokens);
        }

        var boundary = new List<string>();
        for (int r = 0; r < Rows; r++)
        {
            if (cpuTokens[r] == torchTokens[r])
            {
                continue;
            }

            // The selector's uniform for row r on its first call: the first draw of the stream seeded seed + r.
            double u = Xoshiro256StarStar.ForRow(seed, r).NextDouble();
            var (_, cpuDistance) = ReferenceKernels.Sample(LogitData.Row(cpuProcessed, Vocab, r), r, u);
            var (_, torchDistance) = ReferenceKernels.Sample(LogitData.Row(torchProcessed, Vocab, r), r, u);
            string detail = $"row {r}: cpu token {cpuTokens[r]}, torch token {torchTokens[r]}, u {u:R}, distance to the nearest CDF step {cpuDistance:E2} (cpu) / {torchDistance:E2} (torch)";
            Assert.True(Math.Min(cpuDistance, torchDistance) < BoundaryDistance, $"{name}: {detail} is not a rounding boundary");
            boundary.Add(detail);
        }

        Assert.True(boundary.Count <= Rows / 100, $"{name}: {boundary.Count} boundary rows:\n{string.Join('\n', boundary)}");
    }

    private static float[] Processed(LogitPipeline pipeline, LogitBatch batch, IReadOnlyList<SamplingContext> contexts)
    {
        using (batch)
        {
            pipeline.Process(batch, contexts);
            return batch.ToArray();
        }
    }

    private static LogitPipeline Create(string name, ulong seed) => name switch
    {
        "llama.cpp" => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
        {
            Seed = seed, RepetitionPenalty = 1.1, FrequencyPenalty = 0.2, PresencePenalty = 0.1, DryMultiplier = 0.8, XtcProbability = 0.5, XtcThreshold = 0.05,
        }),
        "hugging-face" => SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions
        {
            Seed = seed, Temperature = 0.7f, TopK = 50, TopP = 0.9, TypicalP = 0.95, RepetitionPenalty = 1.2, NoRepeatNGramSize = 3,
        }),
        "custom" => LogitPipeline.CreateBuilder()
            .FrequencyPresencePenalty(0.4, 0.3, PenaltyScope.PromptAndOutput)
            .MinP(0.02)
            .TopP(0.8)
            .Temperature(1.3f)
            .Multinomial(seed),
        _ => LogitPipeline.CreateBuilder().Multinomial(seed),
    };
}

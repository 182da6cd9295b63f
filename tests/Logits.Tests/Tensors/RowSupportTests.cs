using System;
using System.Linq;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;
using Logits.Tensors;
using Logits.Tensors.Cpu;
using Logits.Tests.Infrastructure;
using Logits.Tests.Reliability;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// The CPU backend's row supports (kernels that skip entries known to be −∞ during a pipeline call) change no
/// result: every random pipeline gives the same tokens, the same processed logits (within the numerics
/// contract) and the same errors with and without them.
/// </summary>
public sealed class RowSupportTests
{
    private static readonly int[] Vocabularies = { 1, 2, 7, 17, 64, 300, 4095, 4096, 4097, 4100, 9000 };

    private static (int[] Tokens, float[] Logits, string? Error) Run(LogitPipeline pipeline, float[] data, int rows, int vocab, int[][] histories, bool supports)
    {
        RowSupport.DisableOnThisThread(!supports);
        try
        {
            var contexts = SamplingContext.ForRows(rows, new[] { vocab - 1 });
            for (int r = 0; r < rows; r++)
            {
                contexts[r].SetHistory(histories[r], histories[r].Length / 2);
            }

            using var batch = CpuLogitBatch.FromRows(data, rows, vocab);
            var tokens = new int[rows];
            try
            {
                pipeline.Sample(batch, contexts, tokens);
                return (tokens, batch.ToArray(), null);
            }
            catch (Exception error) when (error is InvalidLogitsException or NoViableTokenException)
            {
                return (tokens, Array.Empty<float>(), $"{error.GetType().Name}: {error.Message}");
            }
        }
        finally
        {
            RowSupport.DisableOnThisThread(false);
        }
    }

    [Fact]
    public void Random_pipelines_give_the_same_results_with_and_without_row_supports()
    {
        var rng = new Random(20261127);
        int compared = 0;
        int sparseCases = 0;
        for (int c = 0; c < 400; c++)
        {
            int rows = 1 + rng.Next(3);
            int vocab = Vocabularies[rng.Next(Vocabularies.Length)];
            var data = PipelineFuzzTests.RandomRows(rng, rows, vocab, allowInvalid: rng.Next(6) == 0);

            // Half the cases start with a cut that leaves few tokens, so the later steps run on supports.
            var processors = Enumerable.Range(0, rng.Next(5)).Select(_ => PipelineFuzzTests.RandomProcessor(rng, vocab)).ToList();
            if (rng.Next(2) == 0)
            {
                processors.Insert(0, rng.Next(2) == 0 ? new TopKProcessor(1 + rng.Next(50)) : new MinPProcessor(0.01 + (rng.NextDouble() * 0.2)));
                sparseCases++;
            }

            var histories = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, rng.Next(10)).Select(_ => rng.Next(vocab)).ToArray()).ToArray();
            var pipeline = new LogitPipeline(processors, PipelineFuzzTests.RandomSelector(rng), checkEveryStage: rng.Next(2) == 0);
            var twin = pipeline.Clone();
            string name = $"case {c} (rows {rows}, vocab {vocab}): {string.Join(" -> ", processors.Select(p => p.Name))} -> {pipeline.Selector.Name}";

            var dense = Run(twin, data, rows, vocab, histories, supports: false);
            var sparse = Run(pipeline, data, rows, vocab, histories, supports: true);

            Assert.True(dense.Error == sparse.Error, $"{name}: errors differ: dense '{dense.Error}', sparse '{sparse.Error}'");
            if (dense.Error is not null)
            {
                continue;
            }

            Assert.True(dense.Tokens.SequenceEqual(sparse.Tokens), $"{name}: tokens {string.Join(",", dense.Tokens)} vs {string.Join(",", sparse.Tokens)}");
            for (int i = 0; i < dense.Logits.Length; i++)
            {
                float scale = Math.Abs(data[i]);
                Assert.True(
                    Tolerance.Close(sparse.Logits[i], dense.Logits[i], Math.Max(1, scale)),
                    $"{name}: row {i / vocab}, token {i % vocab}: dense {dense.Logits[i]}, sparse {sparse.Logits[i]}");
            }

            compared++;
        }

        Assert.True(compared > 200 && sparseCases > 150, $"compared {compared} cases, {sparseCases} with an early cut");
    }

    [Fact]
    public void Top_k_then_sampling_on_a_large_row_matches_the_dense_path_token_for_token()
    {
        // V = 128256: the support (40 ids) is far below the row; the sampled tokens must not change.
        var rng = new Random(5);
        var data = new float[128256];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(-Math.Log(-Math.Log(rng.NextDouble())) * 2);
        }

        var histories = new[] { Array.Empty<int>() };
        for (ulong seed = 0; seed < 20; seed++)
        {
            var pipeline = LogitPipeline.CreateBuilder().TopK(40).TopP(0.95).MinP(0.05).Temperature(0.8f).Multinomial(seed);
            var dense = Run(pipeline.Clone(), data, 1, data.Length, histories, supports: false);
            var sparse = Run(pipeline, data, 1, data.Length, histories, supports: true);
            Assert.Equal(dense.Tokens[0], sparse.Tokens[0]);
            Assert.Equal(dense.Logits.Count(float.IsFinite), sparse.Logits.Count(float.IsFinite));
        }
    }

    [Fact]
    public void Writing_through_the_public_accessors_inside_a_pipeline_call_forgets_the_supports()
    {
        // A custom processor that revives a token by writing the row directly must be seen by later steps.
        var data = Enumerable.Range(0, 1000).Select(i => (float)(i % 97) / 10).ToArray();
        var pipeline = new LogitPipeline(
            new ILogitProcessor[] { new TopKProcessor(3), new ReviveProcessor(5, 100f), new TemperatureProcessor(0.5f) },
            new MultinomialSelector(1));
        var result = Run(pipeline, data, 1, data.Length, new[] { Array.Empty<int>() }, supports: true);
        Assert.Equal(5, result.Tokens[0]);
    }

    private sealed class ReviveProcessor(int token, float value) : ILogitProcessor
    {
        public string Name => "revive";

        public bool IsArgmaxInvariant => false;

        public void Process(LogitBatch logits, System.Collections.Generic.IReadOnlyList<SamplingContext> contexts) =>
            ((CpuLogitBatch)logits).GetRow(0)[token] = value;
    }
}

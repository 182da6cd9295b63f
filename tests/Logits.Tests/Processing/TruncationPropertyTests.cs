using System;
using System.Linq;
using CsCheck;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing;

/// <summary>
/// CsCheck properties: after any truncation processor at least <c>minTokensToKeep</c> tokens remain (or all
/// finite ones, if fewer), nothing removed comes back, and the kept set is exactly the reference's; a random
/// pipeline always ends in a valid distribution and a kept token.
/// </summary>
public sealed class TruncationPropertyTests
{
    /// <summary>A row of length 1..80 with ties, -inf entries and a wide range, from a seed.</summary>
    private static readonly Gen<float[]> Rows =
        Gen.Select(Gen.Int[1, 80], Gen.Int[0, 3], Gen.Int, (vocab, style, seed) =>
        {
            var rng = new Random(seed);
            var row = new float[vocab];
            for (int i = 0; i < vocab; i++)
            {
                row[i] = style switch
                {
                    0 => (float)Math.Round((rng.NextDouble() * 8) - 4, 1),
                    1 => rng.Next(3),
                    2 => rng.NextDouble() < 0.4 ? float.NegativeInfinity : (float)((rng.NextDouble() * 200) - 100),
                    _ => (float)((rng.NextDouble() * 2e4) - 1e4),
                };
            }

            row[rng.Next(vocab)] = 1f;
            return row;
        });

    private static float[] Apply(ILogitProcessor processor, float[] row)
    {
        using var batch = CpuLogitBatch.FromRow(row);
        processor.Process(batch, new[] { new SamplingContext() });
        return batch.ToArray();
    }

    private static int Finite(float[] row) => row.Count(v => !float.IsNegativeInfinity(v));

    private static void KeepsAtLeastAndNeverRevives(float[] before, float[] after, int minKeep)
    {
        Finite(after).Should().BeGreaterThanOrEqualTo(Math.Min(minKeep, Finite(before)));
        for (int i = 0; i < before.Length; i++)
        {
            if (float.IsNegativeInfinity(before[i]))
            {
                after[i].Should().Be(float.NegativeInfinity, "a removed token is never resurrected");
            }
        }
    }

    [Fact]
    public void Top_k_keeps_at_least_min_tokens_and_exactly_the_reference_set() =>
        Gen.Select(Rows, Gen.Int[1, 90], Gen.Int[1, 6]).Sample((row, k, minKeep) =>
        {
            var after = Apply(new TopKProcessor(k, minKeep), row);
            KeepsAtLeastAndNeverRevives(row, after, minKeep);
            after.Should().Equal(ReferenceProcessors.TopK(row, k, minKeep));
        }, iter: 2000, seed: "0000VyL4hxW3");

    [Fact]
    public void Top_p_keeps_at_least_min_tokens_and_exactly_the_reference_set() =>
        Gen.Select(Rows, Gen.Double[0, 1], Gen.Int[1, 6]).Sample((row, p, minKeep) =>
        {
            var after = Apply(new TopPProcessor(p, minKeep), row);
            KeepsAtLeastAndNeverRevives(row, after, minKeep);
            var (expected, margin) = ReferenceProcessors.TopP(row, p, minKeep);
            if (margin > 1e-5)
            {
                after.Should().Equal(expected);
            }
        }, iter: 2000, seed: "0000VyL4hxW4");

    [Fact]
    public void Min_p_keeps_at_least_min_tokens_and_exactly_the_reference_set() =>
        Gen.Select(Rows, Gen.Double[0, 1], Gen.Int[1, 6]).Sample((row, pMin, minKeep) =>
        {
            var after = Apply(new MinPProcessor(pMin, minKeep), row);
            KeepsAtLeastAndNeverRevives(row, after, minKeep);
            after.Should().Equal(ReferenceProcessors.MinP(row, pMin, minKeep));
        }, iter: 2000, seed: "0000VyL4hxW5");

    [Fact]
    public void A_random_pipeline_ends_in_a_valid_distribution_and_a_kept_token() =>
        Gen.Select(Rows, Gen.Int[0, 1 << 20], Gen.Int[0, 2]).Sample((row, recipe, selectorKind) =>
        {
            var rng = new Random(recipe);
            var builder = LogitPipeline.CreateBuilder().CheckEveryStage();
            int steps = rng.Next(5);
            for (int s = 0; s < steps; s++)
            {
                switch (rng.Next(4))
                {
                    case 0: builder.Temperature((float)((rng.NextDouble() * 3) - 0.5)); break;
                    case 1: builder.TopK(1 + rng.Next(20), 1 + rng.Next(3)); break;
                    case 2: builder.TopP(rng.NextDouble(), 1 + rng.Next(3)); break;
                    default: builder.MinP(rng.NextDouble(), 1 + rng.Next(3)); break;
                }
            }

            var pipeline = selectorKind switch
            {
                0 => builder.Greedy(),
                1 => builder.Multinomial((ulong)recipe),
                _ => builder.Gumbel((ulong)recipe),
            };
            using var batch = CpuLogitBatch.FromRow(row);
            pipeline.Process(batch, new[] { new SamplingContext() });
            var processed = batch.ToArray();
            processed.Any(float.IsNaN).Should().BeFalse();
            processed.Any(float.IsPositiveInfinity).Should().BeFalse();
            using var probabilities = batch.CreateLike();
            batch.Kernels.Softmax(batch, probabilities);
            probabilities.ToArray().Sum(v => (double)v).Should().BeApproximately(1, 1e-5);

            using var again = CpuLogitBatch.FromRow(row);
            int token = pipeline.Clone().Sample(again, new SamplingContext());
            float.IsNegativeInfinity(again.ToArray()[token]).Should().BeFalse("the selector returns a kept token");
        }, iter: 1000, seed: "0000VyL4hxW6");
}

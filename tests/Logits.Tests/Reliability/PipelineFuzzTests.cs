using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Processing.Warping;
using Logits.Selection;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Reliability;

/// <summary>
/// Fuzzing (issue 9, fast version): random pipelines (random processors, valid random parameters, random
/// order, random selector) over random logits with special values. Every call ends in a kept token in
/// range, or in one of the documented exceptions; never another exception, an out-of-range token, or a
/// token whose processed logit is -inf or NaN.
/// </summary>
public abstract class PipelineFuzzTests
{
    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    /// <summary>How many random cases each run checks (LOGITS_FUZZ_CASES overrides, for long runs).</summary>
    protected virtual int Cases => int.TryParse(Environment.GetEnvironmentVariable("LOGITS_FUZZ_CASES"), out int n) ? n : 1500;

    /// <summary>The fuzzer's seed (LOGITS_FUZZ_SEED overrides, for long runs).</summary>
    protected static int Seed => int.TryParse(Environment.GetEnvironmentVariable("LOGITS_FUZZ_SEED"), out int s) ? s : 20261126;

    private static readonly float[] Specials =
    {
        float.NegativeInfinity, float.PositiveInfinity, float.NaN, float.Epsilon, -float.Epsilon, 1e-40f, 1e30f, -1e30f, 0f, -0f, 88.8f, 1e4f, -1e4f,
    };

    public static float[] RandomRows(Random rng, int rows, int vocab, bool allowInvalid)
    {
        var data = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            int style = rng.Next(6);
            for (int i = 0; i < vocab; i++)
            {
                float value = style switch
                {
                    0 => (float)((rng.NextDouble() * 20) - 10),
                    1 => 3f,
                    2 => rng.NextDouble() < 0.7 ? float.NegativeInfinity : (float)rng.NextDouble(),
                    3 => Specials[rng.Next(Specials.Length)],
                    4 => (float)((rng.NextDouble() * 2e30) - 1e30),
                    _ => float.NegativeInfinity,
                };
                if (!allowInvalid && !(value < float.PositiveInfinity))
                {
                    value = 0f;
                }

                data[(r * vocab) + i] = value;
            }

            if (style == 5 && rng.Next(2) == 0)
            {
                data[(r * vocab) + rng.Next(vocab)] = 1f;
            }
        }

        return data;
    }

    public static ILogitProcessor RandomProcessor(Random rng, int vocab)
    {
        int id() => rng.Next(vocab);
        int minKeep() => 1 + rng.Next(3);
        switch (rng.Next(22))
        {
            case 0: return new TemperatureProcessor((float)((rng.NextDouble() * 3) - 0.5));
            case 1: return new TopKProcessor(1 + rng.Next(vocab + 2), minKeep(), rng.Next(2) == 0 ? TopKTieMode.IncludeTies : TopKTieMode.ExactK);
            case 2: return new TopPProcessor(rng.NextDouble(), minKeep());
            case 3: return new MinPProcessor(rng.NextDouble(), minKeep());
            case 4: return new TypicalProcessor(0.01 + (rng.NextDouble() * 0.99), minKeep(), rng.Next(2) == 0 ? TypicalBoundary.Inclusive : TypicalBoundary.Strict);
            case 5: return new EpsilonProcessor(0.0001 + (rng.NextDouble() * 0.9), minKeep());
            case 6: return new EtaProcessor(0.0001 + (rng.NextDouble() * 0.9), minKeep());
            case 7: return new TopNSigmaProcessor(0.1 + (rng.NextDouble() * 3), minKeep());
            case 8: return new XtcProcessor(rng.NextDouble(), rng.NextDouble() * 0.6, (ulong)rng.Next(), minKeep());
            case 9: return new DynamicTemperatureProcessor((float)(rng.NextDouble() * 2), (float)rng.NextDouble(), (float)(0.5 + rng.NextDouble()));
            case 10: return new RepetitionPenaltyProcessor(0.5 + (rng.NextDouble() * 2), rng.Next(2) == 0 ? PenaltyScope.OutputOnly : PenaltyScope.PromptAndOutput, rng.Next(2) == 0 ? -1 : 1 + rng.Next(8), rng.Next(2) == 0);
            case 11: return new FrequencyPresencePenaltyProcessor((rng.NextDouble() * 4) - 2, (rng.NextDouble() * 4) - 2);
            case 12: return new DryProcessor(rng.NextDouble() * 2, 1 + (rng.NextDouble() * 2), 1 + rng.Next(3));
            case 13: return new NoRepeatNGramProcessor(1 + rng.Next(3));
            case 14: return new LogitBiasProcessor(new Dictionary<int, double> { [id()] = rng.Next(3) == 0 ? double.NegativeInfinity : (rng.NextDouble() * 200) - 100 });
            case 15: return new SuppressTokensProcessor(new[] { id() });
            case 16: return new AllowedTokensProcessor(new[] { id(), id() });
            case 17: return new MinLengthProcessor(rng.Next(12), new[] { id() });
            case 18: return new ForcedEosProcessor(1 + rng.Next(12));
            case 19: return new LogitNormalizationProcessor();
            case 20: return new ExponentialDecayLengthPenaltyProcessor(rng.Next(4), 1.01 + rng.NextDouble());
            default: return new BadWordsProcessor(new[] { new[] { id() }, new[] { id(), id() } });
        }
    }

    public static ITokenSelector RandomSelector(Random rng) => rng.Next(5) switch
    {
        0 => GreedySelector.Instance,
        1 => new MultinomialSelector((ulong)rng.Next()),
        2 => new GumbelSelector((ulong)rng.Next()),
        3 => new MirostatV2Selector((ulong)rng.Next(), 1 + (rng.NextDouble() * 5)),
        _ => new MirostatV1Selector((ulong)rng.Next(), 1 + (rng.NextDouble() * 5)),
    };

    [Fact]
    public void Random_pipelines_end_in_a_kept_token_or_a_documented_exception()
    {
        var rng = new Random(Seed);
        var seen = new Dictionary<string, int>();
        for (int c = 0; c < Cases; c++)
        {
            int rows = 1 + rng.Next(3);
            int vocab = 1 + rng.Next(rng.Next(4) == 0 ? 300 : 20);
            var data = RandomRows(rng, rows, vocab, allowInvalid: rng.Next(4) == 0);
            var processors = Enumerable.Range(0, rng.Next(6)).Select(_ => RandomProcessor(rng, vocab)).ToArray();
            var pipeline = new LogitPipeline(processors, RandomSelector(rng), checkEveryStage: rng.Next(2) == 0);
            var contexts = SamplingContext.ForRows(rows, new[] { rng.Next(vocab) });
            var histories = new int[rows][];
            for (int r = 0; r < rows; r++)
            {
                histories[r] = Enumerable.Range(0, rng.Next(12)).Select(_ => rng.Next(4) == 0 ? -1 : rng.Next(vocab)).ToArray();
                contexts[r].SetHistory(histories[r], rng.Next(histories[r].Length + 1));
            }

            using var batch = Create(data, rows, vocab);
            var tokens = new int[rows];
            string outcome;
            try
            {
                pipeline.Sample(batch, contexts, tokens);
                var processed = batch.ToArray();
                for (int r = 0; r < rows; r++)
                {
                    Assert.InRange(tokens[r], 0, vocab - 1);
                    float z = processed[(r * vocab) + tokens[r]];
                    Assert.False(float.IsNaN(z) || float.IsNegativeInfinity(z), $"case {c}: row {r} selected token {tokens[r]} whose processed logit is {z}");
                }

                outcome = "token";
            }
            catch (InvalidLogitsException)
            {
                outcome = "invalid-logits";
            }
            catch (NoViableTokenException)
            {
                outcome = "no-viable-token";
            }
            catch (Exception error) when (error is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException(
                    $"case {c}: undocumented {error.GetType().Name}: {error.Message}\npipeline: {string.Join(" -> ", processors.Select(p => p.Name))} -> {pipeline.Selector.Name}\n{error}");
            }

            seen[outcome] = seen.GetValueOrDefault(outcome) + 1;
        }

        // The fuzzer must actually reach every outcome, or it is not testing what it claims.
        Assert.True(seen.GetValueOrDefault("token") > Cases / 3, $"outcomes: {string.Join(", ", seen)}");
        Assert.True(seen.GetValueOrDefault("invalid-logits") > 0, $"outcomes: {string.Join(", ", seen)}");
        Assert.True(seen.GetValueOrDefault("no-viable-token") > 0, $"outcomes: {string.Join(", ", seen)}");
    }
}

public sealed class CpuPipelineFuzzTests : PipelineFuzzTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

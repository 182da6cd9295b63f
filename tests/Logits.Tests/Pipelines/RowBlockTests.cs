using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Pipelines;

/// <summary>
/// Row-blocked execution on the CPU backend (the whole chain per block of rows, blocks over the cores) gives exactly
/// what the step-by-step run gives: the same tokens, the same processed logits bit for bit, the same state after several
/// calls (seeded streams, mirostat's μ, penalty counts) and the same errors, naming the row of the whole batch.
/// </summary>
public sealed class RowBlockTests
{
    private static readonly int[] RowCounts = { 1, 2, 3, 7, 64 };

    /// <summary>Odd vocabularies, across vector widths (the row-block size is forced so that small rows block too).</summary>
    private static readonly int[] Vocabularies = { 33, 129, 1001 };

    private const int Calls = 3;

    /// <summary>Each chain as a factory: the blocked and the step-by-step run each get their own (stateful) instance.</summary>
    public static TheoryData<string> Chains() => new(ChainFactories.Keys);

    private static readonly Dictionary<string, Func<int, LogitPipeline>> ChainFactories = new()
    {
        ["llama.cpp default"] = rows => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 11 }),
        ["llama.cpp everything"] = rows => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions
        {
            Seed = 12,
            RepetitionPenalty = 1.3,
            FrequencyPenalty = 0.2,
            PresencePenalty = 0.1,
            DryMultiplier = 0.8,
            TopNSigma = 2.5,
            TypicalP = 0.9,
            XtcProbability = 0.5,
            XtcThreshold = 0.05,
            DynamicTemperatureRange = 0.5,
            LogitBias = new Dictionary<int, double> { [3] = 2.0, [5] = -1.5 },
        }),
        ["llama.cpp mirostat 1"] = rows => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 13, Mirostat = 1 }),
        ["llama.cpp mirostat 2"] = rows => SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 14, Mirostat = 2 }),
        ["hugging face sampling"] = rows => SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions
        {
            Seed = 15,
            Temperature = 0.7,
            TopK = 20,
            TopP = 0.9,
            MinP = 0.02,
            TypicalP = 0.95,
            EpsilonCutoff = 1e-4,
            EtaCutoff = 1e-3,
            RepetitionPenalty = 1.2,
            NoRepeatNGramSize = 2,
        }),
        ["hugging face greedy"] = rows => SamplingPresets.HuggingFace(new HuggingFaceSamplingOptions
        {
            DoSample = false,
            Temperature = 0.7,
            TopP = 0.9,
            RepetitionPenalty = 1.2,
        }),
        ["per-row temperature, top-k, penalties; gumbel"] = rows => LogitPipeline.CreateBuilder()
            .Penalties(PerRowValues(rows, r => 1 + (0.1 * (r % 4))), PerRowValues(rows, r => 0.05 * (r % 3)), PerRowValues(rows, r => 0.1 * (r % 2)), window: 16)
            .Dry(PerRowValues(rows, r => r % 3 == 0 ? 0 : 0.5))
            .Temperature(PerRowValues(rows, r => 0.5 + (0.25 * (r % 5))))
            .TopK(PerRowInts(rows, r => 1 + (r * 7 % 40)))
            .TopP(PerRowValues(rows, r => r % 4 == 0 ? 1.0 : 0.5 + (0.1 * (r % 4))))
            .Xtc(PerRowValues(rows, r => r % 2 == 0 ? 0.7 : 0), PerRowValues(rows, r => 0.02 + (0.01 * (r % 3))), seed: 99)
            .Gumbel(16),
        ["constraints, checked mode"] = rows => LogitPipeline.CreateBuilder()
            .CheckEveryStage()
            .MinLength(6)
            .SuppressTokens(new[] { 1, 2 })
            .BadWords(new[] { new[] { 4, 7 } })
            .ExponentialDecayLengthPenalty(2, 1.1)
            .LogitNormalization()
            .MinP(PerRowValues(rows, r => 0.01 * (1 + (r % 5))))
            .Multinomial(17),
    };

    private static PerRow<double> PerRowValues(int rows, Func<int, double> value) => Enumerable.Range(0, rows).Select(value).ToArray();

    private static PerRow<int> PerRowInts(int rows, Func<int, int> value) => Enumerable.Range(0, rows).Select(value).ToArray();

    [Theory]
    [MemberData(nameof(Chains))]
    public void Every_built_in_chain_gives_the_same_tokens_logits_and_state_blocked_and_step_by_step(string chain)
    {
        int failures = 0;
        foreach (int rows in RowCounts)
        {
            foreach (int vocab in Vocabularies)
            {
                // Blocks of 1, 2 and 3 rows: every split, including a short last block.
                int blockRows = 1 + ((rows + vocab) % 3);
                var blocked = ChainFactories[chain](rows);
                var serial = ChainFactories[chain](rows);
                var blockedContexts = Contexts(rows, vocab);
                var serialContexts = Contexts(rows, vocab);
                for (int call = 0; call < Calls; call++)
                {
                    var data = LogitData.Random(rows, vocab, (1000 * rows) + vocab + call);
                    var (blockedTokens, blockedLogits, blocks, blockedError) = Run(blocked, data, rows, vocab, blockedContexts, blockRows);
                    var (serialTokens, serialLogits, serialBlocks, serialError) = Run(serial, data, rows, vocab, serialContexts, -1);
                    string where = $"{chain}, rows {rows}, vocab {vocab}, call {call}";
                    blocks.Should().Be(rows > blockRows ? (rows + blockRows - 1) / blockRows : 0, where);
                    serialBlocks.Should().Be(0, where);
                    blockedError.Should().Be(serialError, where);
                    if (serialError is not null)
                    {
                        // A row the random data let a constraint empty (Checked mode names it): the same error both ways;
                        // the rows are unspecified after an error, so this shape stops here.
                        failures++;
                        break;
                    }

                    blockedTokens.Should().Equal(serialTokens, where);
                    BitsOf(blockedLogits).Should().Equal(BitsOf(serialLogits), where);

                    // The next step sees what was sampled (penalties, DRY, n-gram bans and min-length read it).
                    Append(blockedContexts, blockedTokens);
                    Append(serialContexts, serialTokens);
                }
            }
        }

        // Errors are the exception: most shapes must have been compared over every call.
        failures.Should().BeLessThan(RowCounts.Length * Vocabularies.Length / 3, chain);
    }

    [Fact]
    public void Blocks_sized_by_bytes_give_the_same_results_as_step_by_step()
    {
        // 64 rows of 4099 logits are 1 MiB: blocks of 31 rows by the default byte budget, run on every core.
        const int rows = 64;
        const int vocab = 4099;
        var blocked = ChainFactories["per-row temperature, top-k, penalties; gumbel"](rows);
        var serial = ChainFactories["per-row temperature, top-k, penalties; gumbel"](rows);
        var blockedContexts = Contexts(rows, vocab);
        var serialContexts = Contexts(rows, vocab);
        for (int call = 0; call < Calls; call++)
        {
            var data = LogitData.Random(rows, vocab, 77 + call);
            var (blockedTokens, blockedLogits, blocks, blockedError) = Run(blocked, data, rows, vocab, blockedContexts, 0);
            var (serialTokens, serialLogits, _, serialError) = Run(serial, data, rows, vocab, serialContexts, -1);
            blockedError.Should().BeNull();
            serialError.Should().BeNull();
            blocks.Should().Be((rows + RowBlocks.BlockRows(vocab) - 1) / RowBlocks.BlockRows(vocab)).And.BeGreaterThan(1);
            blockedTokens.Should().Equal(serialTokens);
            BitsOf(blockedLogits).Should().Equal(BitsOf(serialLogits));
            Append(blockedContexts, blockedTokens);
            Append(serialContexts, serialTokens);
        }
    }

    [Fact]
    public void Rows_copied_in_with_CopyRowFrom_hand_their_checked_maxima_to_the_blocks()
    {
        // Long rows (V >= 16384) also carry block maxima from the copy: each block takes its rows' from the whole batch.
        const int rows = 5;
        const int vocab = 16411;
        var data = LogitData.Random(rows, vocab, 21);
        var results = new List<(int[] Tokens, float[] Logits)>();
        foreach (int blockRows in new[] { 2, -1 })
        {
            var pipeline = ChainFactories["llama.cpp everything"](rows);
            var contexts = Contexts(rows, vocab);
            RowBlocks.SetBlockRowsOnThisThread(blockRows);
            try
            {
                using var batch = new CpuLogitBatch(rows, vocab);
                var tokens = new int[rows];
                for (int call = 0; call < 2; call++)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        batch.CopyRowFrom(r, data.AsSpan(r * vocab, vocab));
                    }

                    pipeline.Sample(batch, contexts, tokens);
                    RowBlocks.LastCallBlocksOnThisThread.Should().Be(blockRows > 0 ? 3 : 0);
                    Append(contexts, tokens);
                }

                results.Add((tokens, batch.ToArray()));
            }
            finally
            {
                RowBlocks.SetBlockRowsOnThisThread(0);
            }
        }

        results[0].Tokens.Should().Equal(results[1].Tokens);
        BitsOf(results[0].Logits).Should().Equal(BitsOf(results[1].Logits));
    }

    [Fact]
    public void Process_without_selection_runs_blocked_and_gives_the_same_logits()
    {
        const int rows = 7;
        const int vocab = 129;
        var data = LogitData.Random(rows, vocab, 5);
        var pipeline = ChainFactories["hugging face sampling"](rows);
        var results = new List<float[]>();
        foreach (int blockRows in new[] { 2, -1 })
        {
            RowBlocks.SetBlockRowsOnThisThread(blockRows);
            try
            {
                using var batch = CpuLogitBatch.FromRows(data, rows, vocab);
                pipeline.Process(batch, Contexts(rows, vocab));
                RowBlocks.LastCallBlocksOnThisThread.Should().Be(blockRows > 0 ? 4 : 0);
                results.Add(batch.ToArray());
            }
            finally
            {
                RowBlocks.SetBlockRowsOnThisThread(0);
            }
        }

        BitsOf(results[0]).Should().Equal(BitsOf(results[1]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_invalid_logit_in_row_5_of_a_blocked_batch_names_row_5(bool checkEveryStage)
    {
        var data = LogitData.Random(9, 33, 3);
        data[(5 * 33) + 4] = float.NaN;
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().CheckEveryStage(checkEveryStage).TopK(5).Multinomial(1));
        error.Blocked.Should().BeOfType<InvalidLogitsException>().Which.Row.Should().Be(5);
        ((InvalidLogitsException)error.Blocked).Stage.Should().Be("input");
        ((InvalidLogitsException)error.Blocked).TokenIndex.Should().Be(4);
        error.Blocked.Message.Should().Be(error.Serial.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_overflow_inside_a_later_step_in_row_5_names_row_5_and_the_step_as_step_by_step(bool checkEveryStage)
    {
        // Temperature 1e-4 on a logit of 1e35 overflows: "temperature" in Checked mode, the kernel's stage otherwise.
        var data = LogitData.Random(9, 33, 4);
        data[(5 * 33) + 7] = 1e35f;
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().CheckEveryStage(checkEveryStage).TopK(30).Temperature(1e-4).Multinomial(1));
        error.Blocked.Should().BeOfType<InvalidLogitsException>().Which.Row.Should().Be(5);
        error.Blocked.Message.Should().Be(error.Serial.Message);
        ((InvalidLogitsException)error.Blocked).Stage.Should().Be(((InvalidLogitsException)error.Serial).Stage);
    }

    [Fact]
    public void The_earliest_step_wins_over_a_lower_row_failing_later_as_step_by_step()
    {
        // Row 2 overflows at temperature (step 1) and row 7 holds a NaN (the entry check): step by step the entry check
        // of the whole batch fails first, so row 7 is reported; its block must not lose to row 2's later failure.
        var data = LogitData.Random(9, 33, 6);
        data[(2 * 33) + 1] = 1e35f;
        data[(7 * 33) + 9] = float.PositiveInfinity;
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().Temperature(1e-4).Multinomial(1));
        error.Blocked.Should().BeOfType<InvalidLogitsException>().Which.Row.Should().Be(7);
        error.Blocked.Message.Should().Be(error.Serial.Message);
    }

    [Fact]
    public void A_row_5_left_with_no_viable_token_names_row_5()
    {
        var data = LogitData.Random(9, 33, 7);
        data.AsSpan(5 * 33, 33).Fill(float.NegativeInfinity);
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().TopP(0.9).MirostatV2(3));
        error.Blocked.Should().BeOfType<NoViableTokenException>().Which.Row.Should().Be(5);
        error.Blocked.Message.Should().Be(error.Serial.Message);
    }

    [Fact]
    public void A_history_id_beyond_the_vocabulary_in_row_5_names_row_5()
    {
        var data = LogitData.Random(9, 33, 8);
        var contexts = Contexts(9, 33);
        contexts[5].SetHistory(new[] { 1, 2, 40 }, 1);
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().RepetitionPenalty(1.2).Greedy(), contexts);
        error.Blocked.Should().BeOfType<ArgumentOutOfRangeException>().Which.Message.Should().Contain("row 5");
        error.Blocked.Message.Should().Be(error.Serial.Message);
    }

    [Fact]
    public void A_temperature_of_row_5_too_large_for_a_float_factor_names_row_5()
    {
        // 1/T rounds to 0 in float: the scale kernel rejects the factor of that row.
        var data = LogitData.Random(9, 33, 10);
        var temperatures = Enumerable.Repeat(0.7, 9).ToArray();
        temperatures[5] = 1e46;
        var error = Failure(data, 9, 33, () => LogitPipeline.CreateBuilder().Temperature(temperatures).Multinomial(2));
        error.Blocked.Should().BeOfType<ArgumentOutOfRangeException>().Which.Message.Should().Contain("(row 5)");
        error.Blocked.Message.Should().Be(error.Serial.Message);
    }

    [Fact]
    public void A_pipeline_with_a_processor_from_outside_the_library_runs_step_by_step()
    {
        const int rows = 7;
        var data = LogitData.Random(rows, 33, 9);
        var pipeline = LogitPipeline.CreateBuilder().Add(new RowNumberProcessor()).Greedy();
        RowBlocks.SetBlockRowsOnThisThread(2);
        try
        {
            using var batch = CpuLogitBatch.FromRows(data, rows, 33);
            pipeline.Process(batch, Contexts(rows, 33));
            RowBlocks.LastCallBlocksOnThisThread.Should().Be(0);

            // The processor saw the whole batch: row r got r added to token 0.
            var result = batch.ToArray();
            for (int r = 0; r < rows; r++)
            {
                result[r * 33].Should().Be(data[r * 33] + r);
            }
        }
        finally
        {
            RowBlocks.SetBlockRowsOnThisThread(0);
        }
    }

    private static (Exception Blocked, Exception Serial) Failure(float[] data, int rows, int vocab, Func<LogitPipeline> make, SamplingContext[]? contexts = null)
    {
        var errors = new Exception[2];
        int i = 0;
        foreach (int blockRows in new[] { 2, -1 })
        {
            RowBlocks.SetBlockRowsOnThisThread(blockRows);
            try
            {
                using var batch = CpuLogitBatch.FromRows(data, rows, vocab);
                var act = () => make().Sample(batch, contexts ?? Contexts(rows, vocab), new int[rows]);
                errors[i++] = act.Should().Throw<Exception>().Which;
                RowBlocks.LastCallBlocksOnThisThread.Should().Be(blockRows > 0 ? (rows + 1) / 2 : 0);
            }
            finally
            {
                RowBlocks.SetBlockRowsOnThisThread(0);
            }
        }

        errors[0].GetType().Should().Be(errors[1].GetType());
        return (errors[0], errors[1]);
    }

    private static (int[] Tokens, float[] Logits, int Blocks, string? Error) Run(LogitPipeline pipeline, float[] data, int rows, int vocab, SamplingContext[] contexts, int blockRows)
    {
        RowBlocks.SetBlockRowsOnThisThread(blockRows);
        try
        {
            using var batch = CpuLogitBatch.FromRows(data, rows, vocab);
            var tokens = new int[rows];
            try
            {
                pipeline.Sample(batch, contexts, tokens);
            }
            catch (Exception error) when (error is InvalidLogitsException or NoViableTokenException)
            {
                return (tokens, Array.Empty<float>(), RowBlocks.LastCallBlocksOnThisThread, $"{error.GetType().Name}: {error.Message}");
            }

            return (tokens, batch.ToArray(), RowBlocks.LastCallBlocksOnThisThread, null);
        }
        finally
        {
            RowBlocks.SetBlockRowsOnThisThread(0);
        }
    }

    /// <summary>Contexts with a short, row-dependent history (prompt of 3) and EOS = the last id.</summary>
    private static SamplingContext[] Contexts(int rows, int vocab)
    {
        var contexts = SamplingContext.ForRows(rows, new[] { vocab - 1 });
        for (int r = 0; r < rows; r++)
        {
            var history = Enumerable.Range(0, 5 + (r % 4)).Select(i => ((r * 13) + (i * 7)) % vocab).ToArray();
            contexts[r].SetHistory(history, 3);
        }

        return contexts;
    }

    private static void Append(SamplingContext[] contexts, int[] tokens)
    {
        for (int r = 0; r < contexts.Length; r++)
        {
            var history = contexts[r].History.ToArray().Append(tokens[r]).ToArray();
            contexts[r].SetHistory(history, contexts[r].PromptLength);
        }
    }

    private static int[] BitsOf(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>A user processor that adds its row index to token 0: it needs the whole batch's row numbering.</summary>
    private sealed class RowNumberProcessor : ILogitProcessor
    {
        public string Name => "row-number";

        public bool IsArgmaxInvariant => false;

        public void Process(LogitBatch logits, IReadOnlyList<SamplingContext> contexts)
        {
            var cpu = (CpuLogitBatch)logits;
            for (int r = 0; r < logits.Rows; r++)
            {
                cpu.GetRow(r)[0] += r;
            }
        }
    }
}

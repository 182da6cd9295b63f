using System;
using System.Collections.Generic;
using System.Linq;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Constraints;
using Logits.Processing.Penalties;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Reliability;

/// <summary>
/// Bounds (issue 9): token ids outside the vocabulary, in histories, biases or constraints, raise an
/// <see cref="ArgumentException"/> (usually <see cref="ArgumentOutOfRangeException"/>) that names the
/// parameter or the row; never a silent wrong logit, an <see cref="IndexOutOfRangeException"/> or a write
/// outside the row.
/// </summary>
/// <remarks>
/// Negative ids are rejected at construction. Ids at or above the vocabulary can only be seen on first use
/// (a definition does not know the vocabulary), so each case builds the processor with the bad id and
/// runs it on a batch of two rows with <c>V = 10</c>; the bad id sits in row 1 only (for histories), so
/// the error must point at the right row. Histories may hold negative ids (padding; the fuzz tests rely
/// on that), so only ids ≥ V are out of bounds there.
/// Several cases were already covered by the processors' own test classes (negative ids at
/// construction for AllowedTokens, SuppressTokens, SuppressTokensAtBegin, MinLength, MinNewTokens,
/// ForcedEos, ForcedBos, ExponentialDecayLengthPenalty, XTC; SequenceBias beyond V); this class holds the
/// whole table in one place, for both backends.
/// </remarks>
public abstract class BoundsTests
{
    private const int Vocab = 10;
    private const int Rows = 2;

    protected abstract LogitBatch Create(float[] values, int rows, int vocab);

    public static TheoryData<string> HistoryProcessors => new() { "repetition", "frequency-presence", "penalties", "dry", "no-repeat-ngram" };

    public static TheoryData<string, int> DefinitionCases()
    {
        var data = new TheoryData<string, int>();
        // The end-of-sequence ids come from the SamplingContext (their one source): every processor that reads
        // them checks them against the vocabulary, BadWords included.
        foreach (string name in DefinitionProcessorNames)
        {
            data.Add(name, Vocab);
            data.Add(name, Vocab + 1000);
        }

        return data;
    }

    public static TheoryData<string> NegativeCases()
    {
        var data = new TheoryData<string>();
        foreach (string name in DefinitionProcessorNames)
        {
            data.Add(name);
        }

        return data;
    }

    private static readonly string[] DefinitionProcessorNames =
    {
        "logit-bias", "sequence-bias", "allowed-tokens", "allowed-tokens-callback", "suppress-tokens", "suppress-tokens-at-begin",
        "bad-words", "bad-words-eos", "forced-eos", "forced-bos", "min-length", "min-new-tokens", "min-length-stop",
        "exponential-decay-eos", "dry-breakers", "xtc-protected",
    };

    [Theory]
    [MemberData(nameof(HistoryProcessors))]
    public void A_history_token_beyond_the_vocabulary_is_an_error_naming_the_row(string name)
    {
        foreach (int bad in new[] { Vocab, Vocab + 1000 })
        {
            var processor = HistoryProcessor(name);
            var contexts = SamplingContext.ForRows(Rows);
            contexts[0].SetHistory(new[] { 1, 2, 3, 1, 2, 3, 1, 2 }, 2);
            contexts[1].SetHistory(new[] { 1, 2, 3, 1, bad, 3, 1, 2 }, 2);
            using var batch = Create(Values(), Rows, Vocab);
            var error = Assert.ThrowsAny<ArgumentException>(() => processor.Process(batch, contexts));
            AssertClear(error, $"{name}, history id {bad}", expectRow: 1, bad);
        }
    }

    [Theory]
    [MemberData(nameof(DefinitionCases))]
    public void A_definition_id_beyond_the_vocabulary_is_an_error_on_first_use(string name, int bad)
    {
        var processor = DefinitionProcessor(name, bad);
        var contexts = SamplingContext.ForRows(Rows, DefinitionEos(name, bad));
        contexts[0].SetHistory(new[] { 1, 2, 3 }, 1);
        contexts[1].SetHistory(new[] { 1, 2, 3 }, 1);
        using var batch = Create(Values(), Rows, Vocab);
        var error = Assert.ThrowsAny<ArgumentException>(() => processor.Process(batch, contexts));
        AssertClear(error, $"{name}, id {bad}", expectRow: null, bad);
    }

    [Theory]
    [MemberData(nameof(NegativeCases))]
    public void A_negative_definition_id_is_rejected_at_construction(string name)
    {
        if (name == "allowed-tokens-callback")
        {
            // The callback's ids are only known on first use. Documented decision of AllowedTokensProcessor:
            // a negative id returned by the callback is an InvalidOperationException naming the row (the
            // callback's result, not an argument, is wrong); an id >= V is an ArgumentOutOfRangeException.
            var processor = DefinitionProcessor(name, -1);
            using var batch = Create(Values(), Rows, Vocab);
            var error = Assert.Throws<InvalidOperationException>(() => processor.Process(batch, SamplingContext.ForRows(Rows)));
            Assert.Contains("row 0", error.Message, StringComparison.Ordinal);
            Assert.Contains("-1", error.Message, StringComparison.Ordinal);
            return;
        }

        // A negative id is rejected by the processor, or, for the end-of-sequence ids, by the SamplingContext.
        var rejected = Assert.ThrowsAny<ArgumentException>(() =>
        {
            DefinitionProcessor(name, -1);
            SamplingContext.ForRows(Rows, DefinitionEos(name, -1));
        });
        Assert.False(string.IsNullOrEmpty(rejected.ParamName), $"{name}: {rejected.GetType().Name} without a parameter name: {rejected.Message}");
    }

    [Fact]
    public void A_pipeline_stays_usable_after_a_bad_history_error()
    {
        // After the error the same pipeline still works on a valid call (no state left corrupted).
        var pipeline = SamplingPresets.LlamaCpp(new LlamaCppSamplingOptions { Seed = 1, RepetitionPenalty = 1.3, DryMultiplier = 0.8 });
        var contexts = SamplingContext.ForRows(1);
        contexts[0].SetHistory(new[] { 1, 2, Vocab + 5, 4 }, 1);
        var token = new int[1];
        using (var batch = Create(Values().AsSpan(0, Vocab).ToArray(), 1, Vocab))
        {
            Assert.ThrowsAny<ArgumentException>(() => pipeline.Sample(batch, contexts, token));
        }

        contexts[0].SetHistory(new[] { 1, 2, 3, 4 }, 1);
        using (var batch = Create(Values().AsSpan(0, Vocab).ToArray(), 1, Vocab))
        {
            pipeline.Sample(batch, contexts, token);
        }

        Assert.InRange(token[0], 0, Vocab - 1);
    }

    private static void AssertClear(ArgumentException error, string what, int? expectRow, int bad)
    {
        string text = error.Message;
        bool namesSomething = !string.IsNullOrEmpty(error.ParamName) || text.Contains("row", StringComparison.OrdinalIgnoreCase);
        Assert.True(namesSomething, $"{what}: {error.GetType().Name} names neither a parameter nor a row: {text}");
        Assert.True(text.Contains(bad.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), $"{what}: the message does not state the bad id {bad}: {text}");
        if (expectRow is int row)
        {
            Assert.True(text.Contains($"row {row}", StringComparison.OrdinalIgnoreCase), $"{what}: the message does not name row {row}: {text}");
        }
    }

    private static float[] Values() => Enumerable.Range(0, Rows * Vocab).Select(i => (i % Vocab) * 0.3f).ToArray();

    private static ILogitProcessor HistoryProcessor(string name) => name switch
    {
        "repetition" => new RepetitionPenaltyProcessor(1.3),
        "frequency-presence" => new FrequencyPresencePenaltyProcessor(0.5, 0.5, PenaltyScope.PromptAndOutput),
        "penalties" => new PenaltiesProcessor(1.3, 0.5, 0.5),
        "dry" => new DryProcessor(0.8, 1.75, 1),
        _ => new NoRepeatNGramProcessor(2),
    };

    /// <summary>The end-of-sequence ids the contexts hold for a definition case (their one source).</summary>
    private static int[] DefinitionEos(string name, int id) => name switch
    {
        "bad-words-eos" or "forced-eos" or "min-length" or "min-new-tokens" or "exponential-decay-eos" => new[] { id },
        _ => new[] { 0 },
    };

    private static ILogitProcessor DefinitionProcessor(string name, int id) => name switch
    {
        "logit-bias" => new LogitBiasProcessor(new Dictionary<int, double> { [1] = 0.5, [id] = 2 }),
        "sequence-bias" => new SequenceBiasProcessor(new[] { new SequenceBias(new[] { 3, id }, 2f) }),
        "allowed-tokens" => new AllowedTokensProcessor(new[] { 1, id }),
        "allowed-tokens-callback" => new AllowedTokensProcessor((_, _) => new[] { 1, id }),
        "suppress-tokens" => new SuppressTokensProcessor(new[] { 1, id }),
        "suppress-tokens-at-begin" => new SuppressTokensAtBeginProcessor(new[] { 1, id }, 2),
        "bad-words" => new BadWordsProcessor(new[] { new[] { 3, id } }),
        "bad-words-eos" => new BadWordsProcessor(new[] { new[] { 3, 4 } }),
        "forced-eos" => new ForcedEosProcessor(3),
        "forced-bos" => new ForcedBosProcessor(id),
        "min-length" => new MinLengthProcessor(10),
        "min-new-tokens" => new MinNewTokensProcessor(10),
        "min-length-stop" => new MinLengthProcessor(10, new[] { id }),
        "exponential-decay-eos" => new ExponentialDecayLengthPenaltyProcessor(0, 1.5),
        "dry-breakers" => new DryProcessor(0.8, 1.75, 1, -1, new[] { id }),
        "xtc-protected" => new XtcProcessor(1.0, 0.01, 7, 1, new[] { id }),
        _ => throw new ArgumentException(name, nameof(name)),
    };
}

/// <summary>The bounds table on the CPU backend.</summary>
public sealed class CpuBoundsTests : BoundsTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

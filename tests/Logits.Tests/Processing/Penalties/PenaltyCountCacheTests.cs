using System;
using System.Threading.Tasks;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Xunit;

namespace Logits.Tests.Processing.Penalties;

/// <summary>
/// The whole-scope penalties keep their counts with the context between calls. Whatever the caller does to the
/// history (append, edit in place, shorten, move the prompt's end, insert a bad id), each call must equal the windowed
/// scan of the same history, which counts from scratch (a window longer than the history covers the same tokens).
/// </summary>
public sealed class PenaltyCountCacheTests
{
    private const int Vocab = 300;

    private static readonly (double Theta, double Frequency, double Presence)[] Settings =
    {
        (1.3, 0.5, 0.2),
        (0.8, -0.4, 0.0),
        (1.0, 0.25, 0.1),
        (2.0, 0.0, 0.0),
    };

    public static TheoryData<PenaltyScope, PenaltyScope> Scopes() => new()
    {
        { PenaltyScope.PromptAndOutput, PenaltyScope.PromptAndOutput },
        { PenaltyScope.PromptAndOutput, PenaltyScope.OutputOnly },
        { PenaltyScope.OutputOnly, PenaltyScope.PromptAndOutput },
        { PenaltyScope.OutputOnly, PenaltyScope.OutputOnly },
    };

    [Theory]
    [MemberData(nameof(Scopes))]
    public void Every_kind_of_history_change_between_calls_gives_the_counted_from_scratch_result(PenaltyScope repetitionScope, PenaltyScope frequencyScope)
    {
        var rng = new Random(((int)repetitionScope * 7) + (int)frequencyScope);
        var buffer = new int[400];
        var context = new SamplingContext();
        int length = 0;
        int prompt = 0;
        for (int step = 0; step < 300; step++)
        {
            // Mostly one appended token (a decode step); sometimes a rewrite of the kind a caller may do.
            switch (rng.Next(12))
            {
                case 0:
                    buffer[rng.Next(Math.Max(1, length))] = rng.Next(Vocab);
                    break;
                case 1:
                    length = rng.Next(length + 1);
                    prompt = Math.Min(prompt, length);
                    break;
                case 2:
                    prompt = rng.Next(length + 1);
                    break;
                default:
                    if (length == buffer.Length)
                    {
                        length = 0;
                        prompt = 0;
                    }

                    // Padding and a skewed id distribution (repeats are the common case).
                    double u = rng.NextDouble();
                    buffer[length++] = rng.Next(10) == 0 ? -1 : (int)(Vocab * u * u * u);
                    break;
            }

            context.SetHistory(buffer.AsMemory(0, length), prompt);
            var (theta, frequency, presence) = Settings[step % Settings.Length];
            var cached = Penalize(new PenaltiesProcessor(theta, frequency, presence, window: -1, repetitionScope, frequencyScope), context, seed: step);
            var scanned = Penalize(new PenaltiesProcessor(theta, frequency, presence, window: 100_000, repetitionScope, frequencyScope), new SamplingContext().SetHistory(buffer.AsMemory(0, length).ToArray(), prompt), seed: step);
            cached.Should().Equal(scanned, $"step {step}: history of {length} with prompt {prompt}");
        }
    }

    [Fact]
    public void An_edit_in_place_without_SetHistory_is_seen()
    {
        var history = new[] { 1, 2, 2, 3 };
        var context = new SamplingContext().SetHistory(history, 0);
        var processor = new PenaltiesProcessor(1.5, 0.5, 0.0);
        Penalize(processor, context, seed: 1);

        history[1] = 7;
        var after = Penalize(processor, context, seed: 1);
        var fresh = Penalize(processor, new SamplingContext().SetHistory(new[] { 1, 7, 2, 3 }, 0), seed: 1);
        after.Should().Equal(fresh);
    }

    [Fact]
    public void A_bad_id_throws_and_the_next_call_counts_again()
    {
        var history = new[] { 4, 5, 6 };
        var context = new SamplingContext().SetHistory(history, 0);
        var processor = new PenaltiesProcessor(1.5, 0.5, 0.1);
        Penalize(processor, context, seed: 2);

        var longer = new[] { 4, 5, 6, Vocab };
        context.SetHistory(longer, 0);
        var act = () => Penalize(processor, context, seed: 2);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contexts");

        longer[3] = 9;
        var after = Penalize(processor, context, seed: 2);
        after.Should().Equal(Penalize(processor, new SamplingContext().SetHistory(new[] { 4, 5, 6, 9 }, 0), seed: 2));
    }

    [Fact]
    public void Contexts_shared_by_concurrent_calls_stay_correct()
    {
        // Each call borrows the context's counts or, while another call holds them, counts into a fresh table.
        var rng = new Random(5);
        var histories = new int[8][];
        for (int i = 0; i < histories.Length; i++)
        {
            histories[i] = new int[50 + (i * 40)];
            for (int j = 0; j < histories[i].Length; j++)
            {
                histories[i][j] = rng.Next(Vocab);
            }
        }

        var context = new SamplingContext();
        var processor = new PenaltiesProcessor(1.3, 0.4, 0.2);
        var expected = new float[histories.Length][];
        for (int i = 0; i < histories.Length; i++)
        {
            expected[i] = Penalize(processor, new SamplingContext().SetHistory(histories[i], 0), seed: i);
        }

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, call =>
        {
            int i = call % histories.Length;
            var own = new SamplingContext().SetHistory(histories[i], 0);
            Penalize(processor, own, seed: i).Should().Equal(expected[i]);
        });

        // One context, histories swapped between calls (each call sees the history set before it).
        for (int call = 0; call < 40; call++)
        {
            int i = (call * 3) % histories.Length;
            context.SetHistory(histories[i], 0);
            Penalize(processor, context, seed: i).Should().Equal(expected[i]);
        }
    }

    private static float[] Penalize(PenaltiesProcessor processor, SamplingContext context, int seed)
    {
        var data = LogitData.Random(1, Vocab, seed);
        using var batch = CpuLogitBatch.FromRows(data, 1, Vocab);
        processor.Process(batch, new[] { context });
        return batch.ToArray();
    }
}

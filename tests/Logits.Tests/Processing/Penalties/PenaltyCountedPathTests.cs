using System;
using System.Collections.Generic;
using FluentAssertions;
using Logits.Processing;
using Logits.Processing.Penalties;
using Logits.Tensors;
using Xunit;

namespace Logits.Tests.Processing.Penalties;

/// <summary>
/// The whole-scope penalties take their edits from the counts kept with each context, updated only for the tokens
/// appended since the last call. Differential tests: on random histories over the benchmark's vocabulary sizes and
/// rows of every kind (peaked, gaussian σ = 1 and 3, a Zipf-like tail), for every scope combination and for batches
/// with per-row parameters, each call must equal, bit for bit, the windowed re-scan of the same history (a window longer
/// than the history covers the same tokens) and a float64 reference computed from the history directly.
/// </summary>
public sealed class PenaltyCountedPathTests
{
    private const int LongWindow = 1_000_000;

    private static readonly (double Theta, double Frequency, double Presence)[] Settings =
    {
        (1.1, 0.1, 0.1),
        (1.1, 0.1, 0.1),
        (0.8, -0.4, 0.0),
        (1.0, 0.25, 0.1),
        (2.0, 0.0, 0.0),
        (1.3, 0.5, -0.0),
        (1e-3, 1e30, 1e35),
    };

    public static TheoryData<int, int> VocabAndKind()
    {
        var data = new TheoryData<int, int>();
        foreach (int vocab in new[] { 512, 4096, 32000, 128256 })
        {
            for (int kind = 0; kind < 4; kind++)
            {
                data.Add(vocab, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VocabAndKind))]
    public void Growing_histories_equal_the_rescan_and_the_reference_under_every_scope(int vocab, int kind)
    {
        var scopes = new[] { PenaltyScope.PromptAndOutput, PenaltyScope.OutputOnly };
        foreach (var repetitionScope in scopes)
        {
            foreach (var frequencyScope in scopes)
            {
                var random = new Random((vocab * 31) + (kind * 7) + ((int)repetitionScope * 3) + (int)frequencyScope);
                var buffer = new int[2600];
                int prompt = random.Next(1, 1200);
                int length = prompt;
                for (int i = 0; i < length; i++)
                {
                    buffer[i] = NextId(random, vocab);
                }

                var context = new SamplingContext();
                for (int step = 0; step < 8; step++)
                {
                    // A decode step appends a token or a few (a speculative batch), sometimes padding.
                    int appended = step == 0 ? 0 : random.Next(4) == 0 ? random.Next(2, 300) : 1;
                    for (int i = 0; i < appended && length < buffer.Length; i++)
                    {
                        buffer[length++] = NextId(random, vocab);
                    }

                    context.SetHistory(buffer.AsMemory(0, length), prompt);
                    var (theta, frequency, presence) = Settings[(step + kind) % Settings.Length];
                    var row = Row(random, vocab, kind);
                    var history = buffer.AsSpan(0, length).ToArray();
                    string what = $"V {vocab}, kind {kind}, scopes {repetitionScope}/{frequencyScope}, step {step}, history {length}, prompt {prompt}";

                    var counted = Run(new PenaltiesProcessor(theta, frequency, presence, window: -1, repetitionScope, frequencyScope), row, 1, vocab, context);
                    var rescanned = Run(new PenaltiesProcessor(theta, frequency, presence, window: LongWindow, repetitionScope, frequencyScope), row, 1, vocab, new SamplingContext().SetHistory(history, prompt));
                    var reference = Reference(row, history, prompt, theta, frequency, presence, repetitionScope, frequencyScope);
                    AssertSameBits(counted, rescanned, what + " (re-scan)");
                    AssertSameBits(counted, reference, what + " (reference)");
                }
            }
        }
    }

    [Fact]
    public void Batches_with_per_row_parameters_equal_the_rescan_and_the_reference()
    {
        const int rows = 6, vocab = 4096;
        var random = new Random(606);
        var buffers = new int[rows][];
        var lengths = new int[rows];
        var prompts = new int[rows];
        var contexts = SamplingContext.ForRows(rows);
        for (int r = 0; r < rows; r++)
        {
            buffers[r] = new int[3000];
            prompts[r] = r == 2 ? 0 : random.Next(1, 900);
            lengths[r] = r == 4 ? 0 : prompts[r];
            for (int i = 0; i < lengths[r]; i++)
            {
                buffers[r][i] = NextId(random, vocab);
            }
        }

        var scopes = new[] { PenaltyScope.PromptAndOutput, PenaltyScope.OutputOnly };
        for (int step = 0; step < 12; step++)
        {
            // Row 1 has no penalty at all (it reads no history), row 3 only the additive ones, row 5 only repetition.
            var theta = new double[rows];
            var frequency = new double[rows];
            var presence = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                var (t, f, p) = Settings[(step + r) % Settings.Length];
                theta[r] = r is 1 or 3 ? 1.0 : t;
                frequency[r] = r is 1 or 5 ? 0.0 : f;
                presence[r] = r is 1 or 5 ? 0.0 : p;
                if (step > 0 && r != 4)
                {
                    buffers[r][lengths[r]++] = NextId(random, vocab);
                }

                contexts[r].SetHistory(buffers[r].AsMemory(0, lengths[r]), Math.Min(prompts[r], lengths[r]));
            }

            var repetitionScope = scopes[step % 2];
            var frequencyScope = scopes[(step / 2) % 2];
            var data = new float[rows * vocab];
            for (int r = 0; r < rows; r++)
            {
                Row(random, vocab, r % 4).CopyTo(data, r * vocab);
            }

            var fresh = new SamplingContext[rows];
            for (int r = 0; r < rows; r++)
            {
                fresh[r] = new SamplingContext(r).SetHistory(buffers[r].AsSpan(0, lengths[r]).ToArray(), contexts[r].PromptLength);
            }

            var counted = Run(new PenaltiesProcessor(theta, frequency, presence, window: -1, repetitionScope, frequencyScope), data, rows, vocab, contexts);
            var rescanned = Run(new PenaltiesProcessor(theta, frequency, presence, window: LongWindow, repetitionScope, frequencyScope), data, rows, vocab, fresh);
            AssertSameBits(counted, rescanned, $"step {step} (re-scan)");
            for (int r = 0; r < rows; r++)
            {
                var reference = Reference(data.AsSpan(r * vocab, vocab).ToArray(), buffers[r].AsSpan(0, lengths[r]).ToArray(), contexts[r].PromptLength, theta[r], frequency[r], presence[r], repetitionScope, frequencyScope);
                AssertSameBits(counted.AsSpan(r * vocab, vocab).ToArray(), reference, $"step {step}, row {r} (reference)");
            }
        }
    }

    [Fact]
    public void Switching_parameters_on_one_context_recomputes_every_edit()
    {
        // The kept edits belong to one rule: a call with other parameters or scopes must not reuse them.
        const int vocab = 512;
        var random = new Random(77);
        var history = new int[1500];
        for (int i = 0; i < history.Length; i++)
        {
            history[i] = NextId(random, vocab);
        }

        var context = new SamplingContext().SetHistory(history, 400);
        var scopes = new[] { PenaltyScope.PromptAndOutput, PenaltyScope.OutputOnly };
        for (int call = 0; call < 24; call++)
        {
            var (theta, frequency, presence) = Settings[call % Settings.Length];
            var repetitionScope = scopes[(call / 3) % 2];
            var frequencyScope = scopes[(call / 5) % 2];
            var row = Row(random, vocab, call % 4);
            var counted = Run(new PenaltiesProcessor(theta, frequency, presence, window: -1, repetitionScope, frequencyScope), row, 1, vocab, new[] { context });
            AssertSameBits(counted, Reference(row, history, 400, theta, frequency, presence, repetitionScope, frequencyScope), $"call {call}");
        }
    }

    /// <summary>A history id: skewed towards small ids as in the benchmark (<c>⌊V·u³⌋</c>), with some padding.</summary>
    private static int NextId(Random random, int vocab)
    {
        if (random.Next(16) == 0)
        {
            return -1;
        }

        double u = random.NextDouble();
        return Math.Min(vocab - 1, (int)(vocab * u * u * u));
    }

    /// <summary>A row of one kind: 0 peaked (N(0, 2.5²) plus 20 peaks), 1 and 2 gaussian σ = 1 and 3, 3 Zipf-like; with some -inf.</summary>
    private static float[] Row(Random random, int vocab, int kind)
    {
        var row = new float[vocab];
        double sigma = kind switch { 0 => 2.5, 1 => 1.0, 2 => 3.0, _ => 0.3 };
        for (int i = 0; i < vocab; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            row[i] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        if (kind == 0)
        {
            for (int p = 0; p < 20; p++)
            {
                row[random.Next(vocab)] = (float)(12.0 + (4.0 * random.NextDouble()));
            }
        }
        else if (kind == 3)
        {
            for (int i = 0; i < vocab; i++)
            {
                row[i] += (float)(-1.1 * Math.Log(1 + random.Next(vocab)));
            }
        }

        for (int i = 0; i < vocab / 97; i++)
        {
            row[random.Next(vocab)] = float.NegativeInfinity;
        }

        row[random.Next(vocab)] = 0f;
        row[random.Next(vocab)] = -0f;
        return row;
    }

    private static float[] Run(PenaltiesProcessor processor, float[] data, int rows, int vocab, IReadOnlyList<SamplingContext> contexts)
    {
        using var batch = CpuLogitBatch.FromRows(data, rows, vocab);
        processor.Process(batch, contexts);
        return batch.ToArray();
    }

    private static float[] Run(PenaltiesProcessor processor, float[] row, int rows, int vocab, SamplingContext context) =>
        Run(processor, row, rows, vocab, new[] { context });

    /// <summary>
    /// The rule in float64 from the history: repetition on every id of its scope, then <c>c·α_f + α_p</c> subtracted for
    /// every id counted in the frequency/presence scope; one rounding; below <c>-float.MaxValue</c> is -∞.
    /// </summary>
    private static float[] Reference(float[] row, int[] history, int prompt, double theta, double frequency, double presence, PenaltyScope repetitionScope, PenaltyScope frequencyScope)
    {
        var repeated = new bool[row.Length];
        var counts = new int[row.Length];
        for (int position = 0; position < history.Length; position++)
        {
            int id = history[position];
            if (id < 0)
            {
                continue;
            }

            if (repetitionScope == PenaltyScope.PromptAndOutput || position >= prompt)
            {
                repeated[id] = true;
            }

            if (frequencyScope == PenaltyScope.PromptAndOutput || position >= prompt)
            {
                counts[id]++;
            }
        }

        bool repetitionActive = theta != 1;
        bool additiveActive = frequency != 0 || presence != 0;
        var result = (float[])row.Clone();
        for (int id = 0; id < row.Length; id++)
        {
            bool divide = repetitionActive && repeated[id];
            bool subtract = additiveActive && counts[id] > 0;
            if (!divide && !subtract)
            {
                continue;
            }

            double z = row[id];
            double divisor = divide ? theta : 1.0;
            z = z > 0 ? z / divisor : z * divisor;
            z -= subtract ? (counts[id] * frequency) + presence : 0.0;
            result[id] = z < -float.MaxValue ? float.NegativeInfinity : (float)z;
        }

        return result;
    }

    private static void AssertSameBits(float[] actual, float[] expected, string what)
    {
        actual.Length.Should().Be(expected.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
            {
                actual[i].Should().Be(expected[i], $"entry {i} of {what} (bits differ: {actual[i]} vs {expected[i]})");
                BitConverter.SingleToInt32Bits(actual[i]).Should().Be(BitConverter.SingleToInt32Bits(expected[i]), $"the sign of zero at entry {i} of {what}");
            }
        }
    }
}

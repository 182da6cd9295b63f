using System;
using System.Linq;
using Logits.Pipelines;
using Logits.Processing;
using Logits.Processing.Truncation;
using Logits.Tensors;
using Logits.Tensors.Cpu;
using Logits.Tests.Reliability;
using Xunit;

namespace Logits.Tests.Tensors;

/// <summary>
/// Block maxima (taken by the checking pass of long rows, or by <c>CopyRowFrom</c>) change what the top-k search and
/// the mask read, never what they compute: the k-th largest value, the masked row and the kept ids equal the full
/// passes', bit for bit, and a pipeline gives the same tokens, logits and errors with them as without.
/// </summary>
public sealed class BlockMaximaTests
{
    /// <summary>Lengths around the block size and the shortest row that records block maxima.</summary>
    private static readonly int[] Lengths =
    {
        BlockMaxima.RowMinimum, BlockMaxima.RowMinimum + 1, BlockMaxima.RowMinimum + BlockMaxima.Size - 1, 20000, 32000, 32001, 40000,
    };

    /// <summary>Row kinds: gaussian, heavy ties, −∞ runs, sorted ascending, sorted descending, a few peaks.</summary>
    private static float[] Row(Random rng, int length, int kind)
    {
        var row = new float[length];
        for (int i = 0; i < length; i++)
        {
            row[i] = kind switch
            {
                0 => (float)Gaussian(rng),
                1 => rng.Next(4),
                2 => rng.NextDouble() < 0.9 ? float.NegativeInfinity : (float)Gaussian(rng),
                3 => i * 1e-3f,
                4 => -i * 1e-3f,
                _ => (float)(Gaussian(rng) * 2.5),
            };
        }

        if (kind == 5)
        {
            for (int p = 0; p < 20; p++)
            {
                row[rng.Next(length)] = 12 + (4 * (float)rng.NextDouble());
            }
        }

        // Signed zeros and the extremes in some rows.
        if (rng.Next(3) == 0)
        {
            row[rng.Next(length)] = -0f;
            row[rng.Next(length)] = 0f;
            row[rng.Next(length)] = float.MaxValue;
            row[rng.Next(length)] = float.MinValue;
        }

        return row;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void The_checking_pass_gives_the_row_maximum_and_every_block_maximum()
    {
        var rng = new Random(1);
        foreach (int length in Lengths)
        {
            for (int kind = 0; kind < 6; kind++)
            {
                var row = Row(rng, length, kind);
                var maxima = new float[BlockMaxima.Count(length)];
                var copy = new float[length];
                var copiedMaxima = new float[maxima.Length];
                float max = BlockMaxima.CheckedMax(row, maxima, row: 0);
                float copiedMax = BlockMaxima.CopyCheckedMax(row, copy, copiedMaxima, row: 0);

                Assert.Equal(BitConverter.SingleToInt32Bits(RowMath.CheckedMax(row, 0)), BitConverter.SingleToInt32Bits(max));
                Assert.Equal(BitConverter.SingleToInt32Bits(max), BitConverter.SingleToInt32Bits(copiedMax));
                Assert.Equal(row, copy);
                for (int b = 0; b < maxima.Length; b++)
                {
                    var block = row.AsSpan(b * BlockMaxima.Size, Math.Min(BlockMaxima.Size, length - (b * BlockMaxima.Size)));
                    float expected = float.NegativeInfinity;
                    foreach (float value in block)
                    {
                        expected = Math.Max(expected, value);
                    }

                    Assert.True(
                        BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(maxima[b]) && maxima[b].Equals(copiedMaxima[b]),
                        $"V = {length}, kind {kind}, block {b}: {maxima[b]} / {copiedMaxima[b]}, expected {expected}");
                }
            }
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void An_invalid_entry_is_named_as_the_plain_check_names_it_and_the_copy_is_complete(float invalid)
    {
        var rng = new Random(2);
        foreach (int length in Lengths)
        {
            // In a full block, in the partial last block, the very first and the very last token; two offenders.
            foreach (int position in new[] { 0, 300, length - 1, length - 2, Math.Min(length - 1, (length / BlockMaxima.Size) * BlockMaxima.Size) })
            {
                var row = Row(rng, length, rng.Next(6));
                row[position] = invalid;
                row[Math.Min(length - 1, position + 700)] = invalid;
                var expected = Assert.Throws<InvalidLogitsException>(() => RowMath.CheckedMax(row, 3));
                var plain = Assert.Throws<InvalidLogitsException>(() => BlockMaxima.CheckedMax(row, new float[BlockMaxima.Count(length)], 3));
                var copy = new float[length];
                var copied = Assert.Throws<InvalidLogitsException>(() => BlockMaxima.CopyCheckedMax(row, copy, new float[BlockMaxima.Count(length)], 3));
                Assert.Equal(expected.Message, plain.Message);
                Assert.Equal(expected.Message, copied.Message);
                Assert.Equal(position, plain.TokenIndex);
                Assert.Equal(row.Select(BitConverter.SingleToInt32Bits), copy.Select(BitConverter.SingleToInt32Bits));
            }
        }
    }

    [Fact]
    public void The_kth_largest_by_blocks_is_the_kth_largest_of_the_sorted_row()
    {
        var rng = new Random(3);
        int checkedCount = 0;
        foreach (int length in Lengths)
        {
            for (int kind = 0; kind < 6; kind++)
            {
                var row = Row(rng, length, kind);
                var maxima = new float[BlockMaxima.Count(length)];
                float rowMaximum = BlockMaxima.CheckedMax(row, maxima, 0);
                var sorted = row.OrderByDescending(v => v).ToArray();
                foreach (int k in new[] { 2, 3, 20, 32, maxima.Length / 2, rng.Next(2, (maxima.Length / 2) + 1) })
                {
                    Assert.True(BlockMaxima.Pays(k, maxima.Length), $"k = {k}, {maxima.Length} blocks");
                    float byBlocks = BlockMaxima.KthLargest(row, maxima, rowMaximum, new float[k]);
                    Assert.True(sorted[k - 1].Equals(byBlocks), $"V = {length}, kind {kind}, k = {k}: {byBlocks}, expected {sorted[k - 1]}");
                    checkedCount++;
                }
            }
        }

        Assert.True(checkedCount >= Lengths.Length * 6 * 6);
    }

    [Fact]
    public void The_mask_by_blocks_writes_and_records_what_the_full_mask_does()
    {
        var rng = new Random(4);
        foreach (int length in Lengths)
        {
            for (int kind = 0; kind < 6; kind++)
            {
                var row = Row(rng, length, kind);
                var maxima = new float[BlockMaxima.Count(length)];
                BlockMaxima.CheckedMax(row, maxima, 0);
                var sorted = row.OrderByDescending(v => v).ToArray();

                // Thresholds: a top-k cut, the median, −∞, above the maximum; capacities below, at and above the kept count.
                foreach (float threshold in new[] { sorted[39], sorted[length / 2], float.NegativeInfinity, sorted[0] + 1, sorted[0] })
                {
                    int keptCount = row.Count(v => v >= threshold && v > float.NegativeInfinity);
                    foreach (int capacity in new[] { 0, 1, Math.Max(0, keptCount - 1), keptCount, keptCount + 1, RowSupport.Capacity })
                    {
                        var full = (float[])row.Clone();
                        var fullIds = new int[capacity];
                        int fullCount = CpuKernels.MaskBelowCheckedInPlace(full, threshold, fullIds);

                        var byBlocks = (float[])row.Clone();
                        var blockIds = new int[capacity];
                        int blockCount = BlockMaxima.MaskBelowInPlace(byBlocks, threshold, maxima, blockIds);

                        string name = $"V = {length}, kind {kind}, threshold {threshold}, capacity {capacity}";
                        Assert.True(fullCount == blockCount, $"{name}: {blockCount} ids, expected {fullCount}");
                        Assert.True(full.SequenceEqual(byBlocks), $"{name}: the masked rows differ");
                        if (fullCount > 0)
                        {
                            Assert.True(fullIds.AsSpan(0, fullCount).SequenceEqual(blockIds.AsSpan(0, blockCount)), $"{name}: the kept ids differ");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Pipelines_on_long_rows_give_the_same_tokens_logits_and_errors_with_and_without_block_maxima()
    {
        var rng = new Random(20261208);
        int compared = 0;
        for (int c = 0; c < 60; c++)
        {
            int rows = 1 + rng.Next(2);
            int vocab = Lengths[rng.Next(Lengths.Length)];
            var data = c % 3 == 0
                ? PipelineFuzzTests.RandomRows(rng, rows, vocab, allowInvalid: rng.Next(4) == 0)
                : Enumerable.Range(0, rows).SelectMany(_ => Row(rng, vocab, rng.Next(6))).ToArray();
            if (c % 7 == 1)
            {
                data[rng.Next(data.Length)] = rng.Next(2) == 0 ? float.NaN : float.PositiveInfinity;
            }

            // A top-k or min-p cut first (the steps block maxima serve), then random steps.
            var processors = Enumerable.Range(0, rng.Next(4)).Select(_ => PipelineFuzzTests.RandomProcessor(rng, vocab)).ToList();
            processors.Insert(0, rng.Next(3) switch
            {
                0 => new TopKProcessor(1 + rng.Next(60)),
                1 => new TopKProcessor(1 + rng.Next(vocab / BlockMaxima.Size / 2)),
                _ => new MinPProcessor(0.01 + (rng.NextDouble() * 0.2)),
            });
            var pipeline = new LogitPipeline(processors, PipelineFuzzTests.RandomSelector(rng), checkEveryStage: rng.Next(2) == 0);
            string name = $"case {c} (rows {rows}, vocab {vocab}): {string.Join(" -> ", processors.Select(p => p.Name))} -> {pipeline.Selector.Name}";

            var plain = Run(pipeline.Clone(), data, rows, vocab, blocks: false, copyRows: false);
            var tracked = Run(pipeline.Clone(), data, rows, vocab, blocks: true, copyRows: false);
            var copied = Run(pipeline.Clone(), data, rows, vocab, blocks: true, copyRows: true);
            var copiedPlain = Run(pipeline.Clone(), data, rows, vocab, blocks: false, copyRows: true);
            foreach (var (label, result) in new[] { ("block maxima", tracked), ("CopyRowFrom with block maxima", copied), ("CopyRowFrom", copiedPlain) })
            {
                Assert.True(plain.Error == result.Error, $"{name}, {label}: errors differ: '{plain.Error}' vs '{result.Error}'");
                Assert.True(plain.Tokens.SequenceEqual(result.Tokens), $"{name}, {label}: tokens {string.Join(",", plain.Tokens)} vs {string.Join(",", result.Tokens)}");
                Assert.True(
                    plain.Logits.Select(BitConverter.SingleToInt32Bits).SequenceEqual(result.Logits.Select(BitConverter.SingleToInt32Bits)),
                    $"{name}, {label}: the processed logits differ");
            }

            compared += plain.Error is null ? 1 : 0;
        }

        Assert.True(compared > 30, $"only {compared} cases ran to a token");
    }

    [Fact]
    public void Rows_checked_in_parallel_on_a_new_batch_all_keep_their_block_maxima()
    {
        // Kernels run the rows of a large batch in parallel: every row's block maxima must land where its later steps
        // read them (they were once allocated lazily by whichever row came first, and a row could lose its maxima).
        // A processor of the caller's own keeps the pipeline out of row blocks, so the kernels see the whole batch.
        const int rows = 16;
        const int vocab = 20000;
        var rng = new Random(6);
        var data = Enumerable.Range(0, rows).SelectMany(_ => Row(rng, vocab, 0)).ToArray();
        for (int attempt = 0; attempt < 12; attempt++)
        {
            var pipeline = new LogitPipeline(new ILogitProcessor[] { new Passthrough(), new TopKProcessor(40), new MinPProcessor(0.05) }, new Logits.Selection.MultinomialSelector((ulong)attempt));
            var expected = Run(pipeline.Clone(), data, rows, vocab, blocks: false, copyRows: false);
            var actual = Run(pipeline.Clone(), data, rows, vocab, blocks: true, copyRows: false);
            Assert.Null(expected.Error);
            Assert.True(actual.Error is null, $"attempt {attempt}: {actual.Error}");
            Assert.Equal(expected.Tokens, actual.Tokens);
        }
    }

    private sealed class Passthrough : ILogitProcessor
    {
        public string Name => "passthrough";

        public bool IsArgmaxInvariant => true;

        public void Process(LogitBatch logits, System.Collections.Generic.IReadOnlyList<SamplingContext> contexts)
        {
        }
    }

    private static (int[] Tokens, float[] Logits, string? Error) Run(LogitPipeline pipeline, float[] data, int rows, int vocab, bool blocks, bool copyRows)
    {
        RowSupport.DisableBlockMaximaOnThisThread(!blocks);
        try
        {
            var contexts = SamplingContext.ForRows(rows, new[] { vocab - 1 });
            for (int r = 0; r < rows; r++)
            {
                contexts[r].SetHistory(new[] { r, vocab - 2, 7 }, promptLength: 1);
            }

            using var batch = new CpuLogitBatch(rows, vocab);
            var tokens = new int[rows];
            try
            {
                for (int r = 0; r < rows; r++)
                {
                    if (copyRows)
                    {
                        batch.CopyRowFrom(r, data.AsSpan(r * vocab, vocab));
                    }
                    else
                    {
                        data.AsSpan(r * vocab, vocab).CopyTo(batch.GetRow(r));
                    }
                }

                pipeline.Sample(batch, contexts, tokens);
                return (tokens, batch.ToArray(), null);
            }
            catch (Exception error) when (error is InvalidLogitsException or NoViableTokenException)
            {
                // CopyRowFrom reports an invalid entry at the copy, the pipeline at its entry check: the same message.
                return (tokens, Array.Empty<float>(), $"{error.GetType().Name}: {error.Message}");
            }
        }
        finally
        {
            RowSupport.DisableBlockMaximaOnThisThread(false);
        }
    }
}

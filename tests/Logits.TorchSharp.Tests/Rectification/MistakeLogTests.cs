using System;
using System.Collections.Generic;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Rectification;

/// <summary>The Mistake Log: FIFO bound, copies, sampling, storage types and the memory formula (docs/algorithms/paper-methods.md#mistake-log).</summary>
public sealed class MistakeLogTests
{
    private const int Width = 3, Vocab = 4;

    /// <summary>Appends one sequence whose every value encodes <paramref name="id"/> (e = id, h̄ = −id, ℓ = id/100).</summary>
    private static void AppendTagged(MistakeLog log, int id, int m = 2, int n = 2)
    {
        using var e = TorchScalars.Filled(new long[] { 1, m + n, Width }, (float)id, ScalarType.Float32);
        using var h = TorchScalars.Filled(new long[] { 1, m + n, Width }, (float)-id, ScalarType.Float32);
        using var l = TorchScalars.Filled(new long[] { 1, n, Vocab }, id / 100f, ScalarType.Float32);
        using var mask = ones(new long[] { 1, n }, ScalarType.Bool);
        log.Append(e, h, l, mask, new[] { m }, new[] { n });
    }

    private static int Tag(MistakeLogEntry entry) => (int)Math.Round(entry.InputRepresentation[0, 0].item<float>());

    [Fact]
    public void Fifo_keeps_exactly_the_last_capacity_entries()
    {
        using var log = new MistakeLog(capacity: 4);
        for (int id = 1; id <= 4 + 3; id++)
        {
            AppendTagged(log, id);
        }

        log.Count.Should().Be(4);
        log.Capacity.Should().Be(4);
        log.Entries.Select(Tag).Should().Equal(4, 5, 6, 7);
        log.StoredBytes.Should().Be(4 * MistakeLog.EstimateEntryBytes(2, 2, Vocab, Width));
    }

    [Fact]
    public void Append_splits_the_batch_and_stores_detached_copies_of_the_right_slices()
    {
        using var log = new MistakeLog(capacity: 8);
        using var e = TensorValues.Range(2 * 6 * Width).view(2, 6, Width).requires_grad_();
        using var h = e.Times(2).detach();
        using var l = TensorValues.Range(2 * 3 * Vocab).view(2, 3, Vocab);
        using var mask = tensor(new[] { true, true, false, true, false, false }, new long[] { 2, 3 });
        log.Append(e, h, l, mask, new[] { 2, 4 }, new[] { 3, 1 });
        var entries = log.Entries.ToArray();
        entries.Should().HaveCount(2);
        entries[0].PromptLength.Should().Be(2);
        entries[0].TargetLength.Should().Be(3);
        entries[0].InputRepresentation.shape.Should().Equal(4, Width);
        entries[0].Mistakes.shape.Should().Equal(3, Vocab);
        entries[0].TargetMask.data<bool>().ToArray().Should().Equal(true, true, false);
        entries[1].InputRepresentation.shape.Should().Equal(4, Width);
        entries[1].Mistakes.shape.Should().Equal(1, Vocab);
        entries[0].InputRepresentation.requires_grad.Should().BeFalse();
        using (var expected = e[1].narrow(0, 0, 4).detach())
        {
            entries[1].InputRepresentation.allclose(expected, 0, 0).Should().BeTrue();
        }

        using (var expected = l[1].narrow(0, 0, 1))
        {
            entries[1].Mistakes.allclose(expected, 0, 0).Should().BeTrue();
        }

        // Copies, not views: changing the source afterwards changes nothing stored.
        using (no_grad())
        {
            e.FillInPlace(-1);
            h.FillInPlace(-1);
            l.FillInPlace(-1);
        }

        entries[0].InputRepresentation[0, 0].item<float>().Should().Be(0f);
        entries[0].HiddenStates[1, 0].item<float>().Should().Be(6f);
        entries[1].Mistakes[0, 0].item<float>().Should().Be(12f);
    }

    [Fact]
    public void Sampling_is_without_replacement_seeded_and_whole_log_when_small()
    {
        using var log = new MistakeLog(capacity: 10, seed: 5, storageType: ScalarType.Float32, device: null);
        FluentActions.Invoking(() => log.Sample(2)).Should().Throw<InvalidOperationException>();
        for (int id = 1; id <= 3; id++)
        {
            AppendTagged(log, id);
        }

        using (var whole = log.Sample(8))
        {
            whole.Count.Should().Be(3);
            using var x = whole.InputRepresentation();
            x.select(1, 0).select(1, 0).data<float>().ToArray().Should().Equal(1f, 2f, 3f);
        }

        for (int id = 4; id <= 10; id++)
        {
            AppendTagged(log, id);
        }

        var draws = new List<int[]>();
        var seen = new HashSet<int>();
        for (int trial = 0; trial < 40; trial++)
        {
            using var batch = log.Sample(4);
            using var x = batch.InputRepresentation();
            var tags = x.select(1, 0).select(1, 0).data<float>().ToArray().Select(v => (int)v).ToArray();
            tags.Should().OnlyHaveUniqueItems();
            tags.Should().OnlyContain(t => t >= 1 && t <= 10);
            seen.UnionWith(tags);
            draws.Add(tags);
        }

        seen.Should().HaveCount(10, "every entry can be drawn");
        draws.Select(d => string.Join(",", d)).Distinct().Count().Should().BeGreaterThan(10, "draws vary");

        // Same seed and contents: the same draws.
        using var again = new MistakeLog(10, ScalarType.Float32, null, 5);
        for (int id = 1; id <= 10; id++)
        {
            AppendTagged(again, id);
        }

        for (int trial = 0; trial < 40; trial++)
        {
            using var batch = again.Sample(4);
            using var x = batch.InputRepresentation();
            x.select(1, 0).select(1, 0).data<float>().ToArray().Select(v => (int)v).Should().Equal(draws[trial]);
        }

        FluentActions.Invoking(() => log.Sample(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("batchSize");
    }

    [Fact]
    public void Sampled_batch_is_padded_with_masks_and_memory_halves()
    {
        using var log = new MistakeLog(capacity: 4);
        AppendTagged(log, 1, m: 1, n: 3);
        AppendTagged(log, 2, m: 3, n: 1);
        AppendTagged(log, 3, m: 1, n: 2);
        using var batch = log.Sample(4);
        batch.Mistakes.shape.Should().Equal(3, 3, Vocab);
        batch.Memory.shape.Should().Equal(3, 2 * 3, Width);
        batch.PromptLengths.Should().Equal(1, 3, 1);
        batch.TargetLengths.Should().Equal(3, 1, 2);
        batch.PromptLengths[2].Should().Be(1);
        batch.TargetMask.data<bool>().ToArray().Should().Equal(true, true, true, true, false, false, true, true, false);
        var memory = batch.Memory.select(2, 0).data<float>().ToArray();

        // S_max = 3; each half padded to 3 rows: e at rows 0..S−1, h̄ at rows 3..3+S−1, zero padding.
        memory.Take(6).Should().Equal(1f, 1f, 1f, -1f, -1f, -1f);
        memory.Skip(6).Take(6).Should().Equal(2f, 2f, 2f, -2f, -2f, -2f);
        memory.Skip(12).Take(6).Should().Equal(3f, 3f, 0f, -3f, -3f, 0f);
        batch.Mistakes[1, 1, 0].item<float>().Should().Be(0f, "padding is zero");
        using var mask = batch.MemoryMask();
        mask.shape.Should().Equal(3, 3, 6);

        // Row 0 (m = 1): query 1 sees k ≤ 1, query 3 sees k ≤ 3, in both halves.
        mask[0, 0].data<bool>().ToArray().Should().Equal(true, false, false, true, false, false);
        mask[0, 2].data<bool>().ToArray().Should().Equal(true, true, true, true, true, true);

        // Row 1 (m = 3, n = 1): query 1 sees k ≤ 3; padded queries see no padding.
        mask[1, 2].data<bool>().ToArray().Should().Equal(true, true, true, true, true, true);

        // Row 2 (m = 1, n = 2, S = 2): the padded query 3 still sees only k ≤ 2.
        mask[2, 1].data<bool>().ToArray().Should().Equal(true, true, false, true, true, false);
        mask[2, 2].data<bool>().ToArray().Should().Equal(true, true, false, true, true, false);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 1e-2)]
    [InlineData(ScalarType.Float16, 1e-3)]
    [InlineData(ScalarType.Float32, 0)]
    public void Storage_types_round_trip_to_float32(ScalarType storage, double tolerance)
    {
        manual_seed(4);
        using var log = new MistakeLog(2, storage, CPU, 0);
        using var e = randn(1, 5, Width);
        using var h = randn(1, 5, Width);
        using var l = rand(1, 3, Vocab).Minus(0.5);
        using var mask = ones(new long[] { 1, 3 }, ScalarType.Bool);
        log.Append(e, h, l, mask, new[] { 3 }, new[] { 3 });
        log.Entries.Single().Mistakes.dtype.Should().Be(storage);
        using var batch = log.Sample(1);
        batch.Mistakes.dtype.Should().Be(ScalarType.Float32);
        batch.Memory.dtype.Should().Be(ScalarType.Float32);
        using var x = batch.InputRepresentation();
        using var expectedE = e.narrow(1, 0, 5);
        x.allclose(expectedE, rtol: tolerance, atol: tolerance).Should().BeTrue();
        batch.Mistakes.allclose(l, rtol: tolerance, atol: tolerance).Should().BeTrue();
        log.StoredBytes.Should().Be(MistakeLog.EstimateEntryBytes(3, 3, Vocab, Width, storage));
    }

    [Fact]
    public void Memory_formula_matches_the_spec_example_and_validation_names_parameters()
    {
        // n = 256, V = 32 000, m + n = 512, d_P = 2048, float32: about 41 MB.
        long bytes = MistakeLog.EstimateEntryBytes(256, 256, 32_000, 2048);
        bytes.Should().Be(4L * ((256L * 32_000) + (2L * 511 * 2048)));
        (bytes / 1e6).Should().BeApproximately(41.1, 0.1);
        MistakeLog.EstimateEntryBytes(256, 256, 32_000, 2048, ScalarType.BFloat16).Should().Be(bytes / 2);

        FluentActions.Invoking(() => new MistakeLog(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("capacity");
        FluentActions.Invoking(() => new MistakeLog(4, ScalarType.Float64)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("storageType");
        using var log = new MistakeLog(2);
        using var e = zeros(1, 3, Width);
        using var l = zeros(1, 2, Vocab);
        using var mask = ones(new long[] { 1, 2 }, ScalarType.Bool);
        FluentActions.Invoking(() => log.Append(e, e, l, mask, new[] { 3 }, new[] { 2 })).Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("row 0");
        FluentActions.Invoking(() => log.Append(e, e, l, mask, new[] { 0 }, new[] { 2 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("promptLengths");
    }
}

using System;
using Logits.Tensors;
using Logits.Tests.Infrastructure;
using Logits.TorchSharp.Tensors;
using Xunit;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>
/// The torch kernels that take another path inside a pipeline call on trusted entries (device-side decisions, deferred
/// checks) against the CPU kernels: the same values without a host read, and the same exception at the next read.
/// </summary>
public sealed class TorchDevicePathTests
{
    /// <summary>Runs <paramref name="kernel"/> on a torch batch inside a pipeline call whose entry check is deferred, and asserts it reads nothing.</summary>
    private static void InPipelineCall(TorchLogitBatch batch, Action kernel)
    {
        batch.EnterPipelineCall();
        try
        {
            batch.CheckEntriesForPipeline();
            long before = TorchHostReads.Count;
            kernel();
            Assert.Equal(before, TorchHostReads.Count);
        }
        finally
        {
            batch.ExitPipelineCall();
        }
    }

    [Theory]
    [InlineData(5, 1000)]
    [InlineData(4, 32000)]
    [InlineData(3, 67)]
    public void ScaleByEntropy_on_the_device_matches_the_cpu_kernel(int rows, int vocab)
    {
        var data = LogitData.Random(rows, vocab, rows + vocab);
        Array.Fill(data, float.NegativeInfinity, vocab, vocab);
        Array.Fill(data, float.NegativeInfinity, 2 * vocab, vocab);
        data[(2 * vocab) + 7] = 3f;
        (double Minimum, double Range)[] parameters = { (0.3, 1.4), (0.0, 1e-6), (2.0, 0.0), (0.0, -0.5), (0.5, 0.5) };
        var minimum = new double[rows];
        var range = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            (minimum[r], range[r]) = parameters[(r + (r == 0 ? 0 : 1)) % parameters.Length];
        }

        foreach (double exponent in new[] { 1.0, 2.0 })
        {
            using var cpu = CpuLogitBatch.FromRows(data, rows, vocab);
            cpu.Kernels.ScaleByEntropy(cpu, minimum, range, exponent, 1e-5, cpu);
            using var torchBatch = TorchLogitBatch.FromArray(data, rows, vocab);
            InPipelineCall(torchBatch, () => torchBatch.Kernels.ScaleByEntropy(torchBatch, minimum, range, exponent, 1e-5, torchBatch));
            var expected = cpu.ToArray();
            var actual = torchBatch.ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Tolerance.Close(actual[i], expected[i]), $"exponent {exponent}, row {i / vocab}, token {i % vocab}: cpu {expected[i]:R}, torch {actual[i]:R}");
            }
        }
    }

    [Fact]
    public void ScaleByEntropy_on_the_device_defers_an_overflow_to_the_next_read()
    {
        const int rows = 3, vocab = 50;
        var data = LogitData.Random(rows, vocab, 5);
        data[vocab + 9] = 3e38f;
        data[vocab + 4] = 3.2e38f;
        var minimum = new[] { 0.1, 0.1, 0.1 };
        var range = new[] { 0.0, 0.0, 0.0 };
        using var cpu = CpuLogitBatch.FromRows(data, rows, vocab);
        var expected = Assert.Throws<InvalidLogitsException>(() => cpu.Kernels.ScaleByEntropy(cpu, minimum, range, 1.0, 1e-5, cpu));

        using var torchBatch = TorchLogitBatch.FromArray(data, rows, vocab);
        var actual = Assert.Throws<InvalidLogitsException>(() => InPipelineCall(torchBatch, () => torchBatch.Kernels.ScaleByEntropy(torchBatch, minimum, range, 1.0, 1e-5, torchBatch)));
        Assert.Equal((expected.Row, expected.TokenIndex, expected.Value, expected.Stage), (actual.Row, actual.TokenIndex, actual.Value, actual.Stage));
        Assert.Equal((1, 4, "scale"), (actual.Row, actual.TokenIndex, actual.Stage));
    }

    [Fact]
    public void BoostTokens_and_MaskExceptArgMax_in_a_pipeline_call_match_the_cpu_kernels()
    {
        const int rows = 4, vocab = 300;
        var data = LogitData.Random(rows, vocab, 8);
        Array.Fill(data, float.NegativeInfinity, 2 * vocab, vocab);
        data[10] = 0f;
        data[vocab + 11] = float.NegativeInfinity;
        data[(3 * vocab) + 12] = -2f;
        var ids = new[] { 10, 5, 11, -1, 12, 12, 12, 3 };
        var growth = new[] { 1.5, 0.25, 3.0, double.NaN, 2.0, 1e300, 1.0, 0.5 };
        var flags = new[] { true, false, true, true };

        using var cpu = CpuLogitBatch.FromRows(data, rows, vocab);
        cpu.Kernels.BoostTokens(cpu, ids, growth);
        cpu.Kernels.MaskExceptArgMax(cpu, flags, cpu);
        using var torchBatch = TorchLogitBatch.FromArray(data, rows, vocab);
        InPipelineCall(torchBatch, () =>
        {
            torchBatch.Kernels.BoostTokens(torchBatch, ids, growth);
            torchBatch.Kernels.MaskExceptArgMax(torchBatch, flags, torchBatch);
        });
        Assert.Equal(cpu.ToArray(), torchBatch.ToArray());
    }
    [Theory]
    [InlineData(5, 1000)]
    [InlineData(3, 32000)]
    [InlineData(4, 9)]
    public void MaskTopChoices_on_the_device_matches_the_cpu_kernel(int rows, int vocab)
    {
        var data = LogitData.Random(rows, vocab, rows * vocab);
        for (int r = 0; r < rows; r++)
        {
            float[] tops = { 30f, 29.5f, 29f, r % 2 == 0 ? 29f : 28.5f, 27f };
            for (int j = 0; j < Math.Min(tops.Length, vocab); j++)
            {
                data[(r * vocab) + ((j * 3) % vocab)] = tops[j];
            }
        }

        Array.Fill(data, float.NegativeInfinity, vocab, vocab);
        double[] thresholds = { 0.1, 0.0, double.PositiveInfinity, 0.2, 0.6 };
        var variants = new[] { (1, Array.Empty<int>()), (vocab, Array.Empty<int>()), (1, new[] { 3 % vocab }), (2, new[] { vocab - 1 }) };
        int cut = 0;
        for (int variant = 0; variant < variants.Length; variant++)
        {
            var (minKeep, protectedIds) = variants[variant];
            var threshold = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                threshold[r] = thresholds[(r + variant) % thresholds.Length];
            }

            using var cpu = CpuLogitBatch.FromRows(data, rows, vocab);
            cpu.Kernels.MaskTopChoices(cpu, threshold, minKeep, protectedIds, cpu);
            using var torchBatch = TorchLogitBatch.FromArray(data, rows, vocab);
            InPipelineCall(torchBatch, () => torchBatch.Kernels.MaskTopChoices(torchBatch, threshold, minKeep, protectedIds, torchBatch));
            var expected = cpu.ToArray();
            Assert.Equal(expected, torchBatch.ToArray());
            cut += Array.FindAll(expected, float.IsFinite).Length < Array.FindAll(data, float.IsFinite).Length ? 1 : 0;
        }

        Assert.True(cut > 0, "some variant must cut");
    }
}

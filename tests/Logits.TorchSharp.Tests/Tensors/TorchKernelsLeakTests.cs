using System;
using System.Linq;
using FluentAssertions;
using Logits.Tensors;
using Logits.TorchSharp.Tensors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>The torch path leaks no tensors: every temporary dies in its kernel's dispose scope.</summary>
public sealed class TorchKernelsLeakTests
{
    [Fact]
    public void Kernels_leave_no_live_tensors_on_success_or_failure()
    {
        const int rows = 3, vocab = 50;
        var data = Enumerable.Range(0, rows * vocab).Select(i => (float)Math.Cos(i) * 4).ToArray();
        data[7] = float.NegativeInfinity;
        using var x = TorchLogitBatch.FromArray(data, rows, vocab);
        using var y = TorchLogitBatch.FromArray(data.Reverse().ToArray(), rows, vocab);
        using var destination = x.CreateLike();
        using var empty = TorchLogitBatch.FromArray(Enumerable.Repeat(float.NegativeInfinity, rows * vocab).ToArray(), rows, vocab);
        using var huge = TorchLogitBatch.FromArray(Enumerable.Repeat(3e38f, rows * vocab).ToArray(), rows, vocab);
        using var nan = TorchLogitBatch.FromArray(data.Select((v, i) => i == 60 ? float.NaN : v).ToArray(), rows, vocab);
        using var storage = tensor(data, new long[] { vocab, rows });
        using var view = TorchLogitBatch.Wrap(storage.t());
        var k = x.Kernels;
        var floats = new float[rows];
        var ints = new int[rows];
        var host = new float[rows * vocab];
        var rowBuffer = new float[vocab];

        void RunAll()
        {
            k.Softmax(x, destination);
            k.LogSoftmax(x, destination);
            k.LogSumExp(x, floats);
            k.Scale(x, 0.5f, destination);
            k.Affine(1f, x, 0.5f, y, 0.25f, y, destination);
            k.ArgMax(x, ints);
            k.MaskBelow(x, new[] { 0f, 1f, float.NegativeInfinity }, destination);
            k.KthLargest(x, new[] { 1, 5, vocab }, floats);
            k.TopPThreshold(x, new[] { 0.0, 0.9, 1.0 }, 2, floats);
            k.Gather(x, new[] { 1, -1, 3, 4, 5, 6 }, new float[6]);
            k.ScatterAdd(destination, new[] { 1, -1, 3, 4, 4, 6 }, new[] { 0.5f, 0f, float.NegativeInfinity, 1f, 2f, -1f });
            k.Sample(x, new[] { 0.1, 0.5, 0.99 }, ints);
            k.Softmax(view, view);
            x.CopyTo(host);
            view.CopyTo(host);
            view.CopyFrom(host);
            x.CopyFrom(host);
            view.CopyRowTo(1, rowBuffer);
            Assert.Throws<NoViableTokenException>(() => k.Sample(empty, new[] { 0.1, 0.5, 0.9 }, ints));
            Assert.Throws<InvalidLogitsException>(() => k.Softmax(nan, destination));
            Assert.Throws<InvalidLogitsException>(() => k.Scale(huge, 10f, destination));
            Assert.Throws<ArgumentOutOfRangeException>(() => k.Gather(x, new[] { 0, vocab, 0 }, new float[3]));
        }

        RunAll(); // warm-up: lazy native initialisation is not a leak
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
        {
            RunAll();
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, DisposeScopeManager.Statistics.ToString());

        // The statistic does see tensors: one more live tensor moves it by one.
        using (var probe = zeros(1))
        {
            DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before + 1);
        }
    }
}

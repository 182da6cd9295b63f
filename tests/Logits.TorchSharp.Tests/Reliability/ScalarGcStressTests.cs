using System;
using System.Linq;
using System.Threading;
using FluentAssertions;
using Logits.TorchSharp.Diffusion;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Rectification;
using Logits.TorchSharp.Tests.Models;
using Logits.TorchSharp.Tests.Rectification;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Reliability;

/// <summary>
/// The models run while another thread forces full collections and finalizers back to back: a Scalar that libtorch
/// reads but nothing holds would be freed mid-call (a native crash or a garbage value), see
/// <c>Analysis/ScalarLifetimeTests</c>. Each pass must give exactly the first pass's outputs.
/// </summary>
public sealed class ScalarGcStressTests
{
    private const int Passes = 12;

    [Fact]
    public void Models_give_identical_outputs_while_another_thread_forces_collections()
    {
        using var decoder = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 3);
        decoder.eval();
        using var copilot = CopilotDecoder.Create(CopilotDecoderTests.SmallOptions(), seed: 4);
        copilot.eval();
        manual_seed(5);
        using var masked = MaskedTokenTransformer.Create(vocabulary: 5, length: 6, width: 16, heads: 2, layers: 2);
        masked.eval();
        using var trained = MaskedTokenTransformer.Create(vocabulary: 3, length: 4, width: 16, heads: 2, layers: 1);
        using var trainer = new RaddTrainer(trained, learningRate: 1e-2, seed: 6);

        using var tokens = tensor(new long[] { 1, 2, 3, 4, 5, 0, 10, 9, 8, 7 }, new long[] { 2, 5 });
        using var mistakes = rand(2, 3, 7);
        using var memory = randn(2, 8, 6);
        using var memoryMask = CopilotDecoder.MemoryMask(new[] { 2, 1 }, new[] { 3, 2 }, 3, 4);
        using var maskedInput = tensor(new long[] { 5, 1, 2, 5, 0, 4, 5, 5, 5, 5, 5, 5 }, new long[] { 2, 6 });
        using var corpus = tensor(Enumerable.Repeat(new long[] { 0, 1, 2, 1 }, 8).SelectMany(x => x).ToArray(), new long[] { 8, 4 });

        float[][] Pass()
        {
            using var scope = NewDisposeScope();
            trainer.Step(corpus);
            return new[]
            {
                decoder.forward(tokens).data<float>().ToArray(),
                copilot.TeacherForced(mistakes, memory, memoryMask).data<float>().ToArray(),
                masked.forward(maskedInput).data<float>().ToArray(),
            };
        }

        var expected = Pass();
        int collections = 0;
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref collections);

                // A short gap lets the passes run between the stop-the-world collections.
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "GC stress" };
        collector.Start();
        int passes = 0;

        // At least Passes passes, and on until the collector has run more often than that: on a loaded machine it
        // may get little time, so a fixed number of passes could finish before it ran (bounded by a deadline).
        var deadline = DateTime.UtcNow.AddSeconds(60);
        try
        {
            while (passes < Passes || (Volatile.Read(ref collections) <= Passes && DateTime.UtcNow < deadline))
            {
                var actual = Pass();
                for (int i = 0; i < expected.Length; i++)
                {
                    actual[i].Should().Equal(expected[i], $"model output {i} of pass {passes} must not change under collections");
                }

                passes++;
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }

        collections.Should().BeGreaterThan(Passes, "collections ran throughout the passes");
    }
}

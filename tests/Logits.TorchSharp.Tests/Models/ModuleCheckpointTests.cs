using System;
using System.IO;
using System.Linq;
using FluentAssertions;
using Logits.TorchSharp.Models;
using Logits.TorchSharp.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests.Models;

/// <summary>Checkpoint save/load: a round trip into a differently seeded model gives bit-identical outputs.</summary>
public sealed class ModuleCheckpointTests
{
    [Fact]
    public void File_and_stream_round_trips_give_identical_weights_and_outputs()
    {
        var options = DecoderTransformerTests.Small(tied: false);
        using var trained = DecoderTransformer.Create(options, seed: 21);

        // One Adam step so the weights are not just the seeded initialisation.
        using (var optimizer = new HeldScalarAdamW(trained.parameters(), 1e-2))
        using (var scope = NewDisposeScope())
        {
            var batch = tensor(new long[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 });
            trained.forward(batch).Squared().mean().backward();
            optimizer.Step();
        }

        string path = Path.Combine(Path.GetTempPath(), "logits-checkpoint-" + Guid.NewGuid().ToString("N") + ".bin");
        try
        {
            ModuleCheckpoint.Save(trained, path);
            using var fromFile = DecoderTransformer.Create(options, seed: 22);
            using var fromStream = DecoderTransformer.Create(options, seed: 23);
            using var tokens = tensor(new long[] { 9, 8, 7, 6, 5 }, new long[] { 1, 5 });
            trained.eval();
            fromFile.eval();
            fromStream.eval();
            var expected = Outputs(trained, tokens);
            Outputs(fromFile, tokens).Should().NotEqual(expected, "a different seed starts from other weights");

            ModuleCheckpoint.Load(fromFile, path);
            using (var memory = new MemoryStream())
            {
                ModuleCheckpoint.Save(trained, memory);
                memory.Position = 0;
                ModuleCheckpoint.Load(fromStream, memory);
                memory.CanRead.Should().BeTrue("the stream stays open");
            }

            foreach (var restored in new[] { fromFile, fromStream })
            {
                var pairs = trained.named_parameters().Zip(restored.named_parameters());
                foreach (var (a, b) in pairs)
                {
                    b.name.Should().Be(a.name);
                    DecoderTransformerTests.Values(b.parameter).Should().Equal(DecoderTransformerTests.Values(a.parameter), a.name);
                }

                Outputs(restored, tokens).Should().Equal(expected);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loading_into_another_architecture_or_from_a_missing_file_fails()
    {
        string path = Path.Combine(Path.GetTempPath(), "logits-checkpoint-" + Guid.NewGuid().ToString("N") + ".bin");
        try
        {
            using var small = DecoderTransformer.Create(DecoderTransformerTests.Small(), seed: 1);
            ModuleCheckpoint.Save(small, path);
            using var wider = DecoderTransformer.Create(DecoderTransformerTests.Small() with { Width = 32 }, seed: 1);
            using var untied = DecoderTransformer.Create(DecoderTransformerTests.Small(tied: false), seed: 1);
            FluentActions.Invoking(() => ModuleCheckpoint.Load(wider, path)).Should().Throw<ArgumentException>();
            FluentActions.Invoking(() => ModuleCheckpoint.Load(untied, path)).Should().Throw<ArgumentException>();
            FluentActions.Invoking(() => ModuleCheckpoint.Load(small, path + ".missing")).Should().Throw<FileNotFoundException>();
            FluentActions.Invoking(() => ModuleCheckpoint.Save(small, " ")).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("path");
            FluentActions.Invoking(() => ModuleCheckpoint.Save(null!, path)).Should().Throw<ArgumentNullException>();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static float[] Outputs(DecoderTransformer model, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        using var output = ((IPilotModel)model).Forward(tokens);
        return new[] { output.Logits, output.Embeddings }.Concat(output.LayerStates).SelectMany(DecoderTransformerTests.Values).ToArray();
    }
}

using Logits.Tensors;
using Logits.Tests.Reliability;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Reliability;

public sealed class TorchPipelineFuzzTests : PipelineFuzzTests
{
    protected override int Cases => System.Math.Min(base.Cases, 600);

    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

using Logits.Tensors;
using Logits.Tests.Processing.Guidance;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Guidance;

public sealed class TorchSteerTests : SteerTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

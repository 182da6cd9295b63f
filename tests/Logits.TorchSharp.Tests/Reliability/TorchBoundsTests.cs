using Logits.Tensors;
using Logits.Tests.Reliability;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Reliability;

/// <summary>The bounds table (out-of-vocabulary ids in histories, biases and constraints) on the TorchSharp backend.</summary>
public sealed class TorchBoundsTests : BoundsTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

using Logits.Tensors;
using Logits.Tests.Processing.Rectification;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Rectification;

public sealed class TorchCopilotRectificationTests : CopilotRectificationTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

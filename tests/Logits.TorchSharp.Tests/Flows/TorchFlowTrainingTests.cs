using Logits.Tensors;
using Logits.Tests.Flows;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Flows;

/// <summary>Every <see cref="FlowTrainingTests"/> case on torch batches.</summary>
public sealed class TorchFlowTrainingTests : FlowTrainingTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

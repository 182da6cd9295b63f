using Logits.Tensors;
using Logits.Tests.Processing.Warping;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Warping;

/// <summary>The shared DynamicTemperatureProcessor tests on the TorchSharp backend.</summary>
public sealed class TorchDynamicTemperatureProcessorTests : DynamicTemperatureProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

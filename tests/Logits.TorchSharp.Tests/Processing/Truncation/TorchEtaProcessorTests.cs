using Logits.Tensors;
using Logits.Tests.Processing.Truncation;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Truncation;

/// <summary>The shared EtaProcessor tests on the TorchSharp backend.</summary>
public sealed class TorchEtaProcessorTests : EtaProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

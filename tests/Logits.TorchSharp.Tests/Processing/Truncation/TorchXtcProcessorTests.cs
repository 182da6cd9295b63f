using Logits.Tensors;
using Logits.Tests.Processing.Truncation;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Truncation;

/// <summary>The shared XtcProcessor tests on the TorchSharp backend.</summary>
public sealed class TorchXtcProcessorTests : XtcProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

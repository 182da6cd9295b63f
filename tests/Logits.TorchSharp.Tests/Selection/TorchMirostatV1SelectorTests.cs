using Logits.Tensors;
using Logits.Tests.Selection;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Selection;

/// <summary>The shared MirostatV1Selector tests on the TorchSharp backend.</summary>
public sealed class TorchMirostatV1SelectorTests : MirostatV1SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

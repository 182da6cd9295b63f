using Logits.Tensors;
using Logits.Tests.Selection;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Selection;

/// <summary>The shared MirostatV2Selector tests on the TorchSharp backend.</summary>
public sealed class TorchMirostatV2SelectorTests : MirostatV2SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

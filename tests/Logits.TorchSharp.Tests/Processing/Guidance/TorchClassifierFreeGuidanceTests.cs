using Logits.Tensors;
using Logits.Tests.Processing.Guidance;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Guidance;

/// <summary>The shared classifier-free guidance tests on the TorchSharp backend.</summary>
public sealed class TorchClassifierFreeGuidanceTests : ClassifierFreeGuidanceTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

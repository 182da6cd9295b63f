using Logits.Tensors;
using Logits.Tests.Tensors;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Tensors;

/// <summary>The shared kernel contract (reference comparisons, errors, reference vectors) on the TorchSharp backend.</summary>
public sealed class TorchKernelConformanceTests : KernelConformanceTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

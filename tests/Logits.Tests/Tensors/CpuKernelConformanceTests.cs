using Logits.Tensors;

namespace Logits.Tests.Tensors;

/// <summary>The kernel contract on the SIMD CPU backend.</summary>
public sealed class CpuKernelConformanceTests : KernelConformanceTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => CpuLogitBatch.FromRows(values, rows, vocab);
}

using Logits.Tensors;
using Logits.Tests.Diffusion;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Diffusion;

/// <summary>The shared LLaDA sampler tests with the model returning TorchSharp batches (guidance runs on the Torch Affine kernel).</summary>
public sealed class TorchLladaSamplerTests : LladaSamplerTests
{
    /// <inheritdoc />
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

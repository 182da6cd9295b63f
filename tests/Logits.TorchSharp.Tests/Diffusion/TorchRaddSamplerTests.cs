using Logits.Tensors;
using Logits.Tests.Diffusion;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Diffusion;

/// <summary>The shared RADD sampler tests with the denoiser returning TorchSharp batches.</summary>
public sealed class TorchRaddSamplerTests : RaddSamplerTests
{
    /// <inheritdoc />
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

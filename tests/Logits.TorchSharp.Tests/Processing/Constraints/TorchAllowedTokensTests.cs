using Logits.Tensors;
using Logits.Tests.Processing.Constraints;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Constraints;

/// <summary>The shared AllowedTokens tests on the TorchSharp backend.</summary>
public sealed class TorchAllowedTokensTests : AllowedTokensTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

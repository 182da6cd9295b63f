using Logits.Tensors;
using Logits.Tests.Processing.Penalties;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing.Penalties;

/// <summary>The shared RepetitionPenaltyProcessor tests (reference vectors, reference, validation) on the TorchSharp backend.</summary>
public sealed class TorchRepetitionPenaltyProcessorTests : RepetitionPenaltyProcessorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

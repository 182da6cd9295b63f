using Logits.Tensors;
using Logits.Tests.Pipelines;
using Logits.Tests.Processing.Truncation;
using Logits.Tests.Processing.Warping;
using Logits.Tests.Selection;
using Logits.TorchSharp.Tensors;

namespace Logits.TorchSharp.Tests.Processing;

// The core processor, selector and pipeline suites of Logits.Tests, run on the TorchSharp backend.
public sealed class TorchTemperatureTests : TemperatureTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

public sealed class TorchTopKTests : TopKTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

public sealed class TorchTopPTests : TopPTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

public sealed class TorchMinPTests : MinPTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

public sealed class TorchSelectorTests : SelectorTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

public sealed class TorchPipelineTests : PipelineTests
{
    protected override LogitBatch Create(float[] values, int rows, int vocab) => TorchLogitBatch.FromArray(values, rows, vocab);
}

using System.Collections.Generic;
using Logits.Processing;
using Logits.Tensors;

namespace Logits.Tests.Infrastructure;

/// <summary>An <see cref="ILogitSource"/> that writes fixed row-major values each step and counts its calls.</summary>
public sealed class FixedLogitSource : ILogitSource
{
    private readonly float[] _values;

    public FixedLogitSource(float[] values) => _values = values;

    public int Calls { get; private set; }

    public void FillLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
    {
        Calls++;
        destination.CopyFrom(_values);
    }
}

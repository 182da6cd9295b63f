using Logits.TorchSharp.Tensors;
using static TorchSharp.torch;

namespace Logits.TorchSharp.Tests;

/// <summary>Reads one-element tensors without TorchSharp's <c>ToDouble()</c>, which goes through an unheld Scalar.</summary>
internal static class TensorValues
{
    /// <summary>The value of a one-element tensor of any floating dtype, as a double.</summary>
    internal static double AsDouble(this Tensor t)
    {
        using var widened = t.to_type(ScalarType.Float64);
        return widened.item<double>();
    }

    /// <summary>A float32 <c>[0, 1, ..., count - 1]</c> (TorchSharp's <c>arange(n)</c> makes unheld Scalars).</summary>
    internal static Tensor Range(long count, ScalarType dtype = ScalarType.Float32) => TorchScalars.Range(0, count, dtype);
}

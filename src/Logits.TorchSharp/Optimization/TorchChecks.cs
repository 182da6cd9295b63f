
namespace Logits.TorchSharp.Optimization;

/// <summary>Shared validation and numerics of the torch forms of the classic primitives.</summary>
internal static class TorchChecks
{
    public static void Finite(Tensor value, string paramName)
    {
        using var scope = NewDisposeScope();
        if (!value.isfinite().all().item<bool>())
        {
            ThrowHelper.ThrowArgument(paramName, "holds a non-finite value (NaN or infinity).");
        }
    }

    public static void Floating(Tensor value, string paramName)
    {
        if (!value.is_floating_point())
        {
            ThrowHelper.ThrowArgument(paramName, $"has dtype {value.dtype}; a floating-point tensor is required.");
        }
    }

    public static void Positive(double value, string paramName)
    {
        if (!(value > 0) || double.IsPositiveInfinity(value))
        {
            ThrowHelper.ThrowArgumentOutOfRange(paramName, value, "must be finite and greater than 0");
        }
    }

    public static void Shape(Tensor value, string paramName, params long[] shape)
    {
        bool ok = value.Dimensions == shape.Length;
        for (int i = 0; ok && i < shape.Length; i++)
        {
            ok = shape[i] < 0 ? value.shape[i] >= 1 : value.shape[i] == shape[i];
        }

        if (!ok)
        {
            ThrowHelper.ThrowArgument(paramName, $"has shape [{string.Join(", ", value.shape)}] but [{string.Join(", ", Array.ConvertAll(shape, s => s < 0 ? "≥1" : s.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] is required.");
        }
    }

    /// <summary>softplus(u) = relu(u) + log1p(exp(−|u|)), exact for every u (torch's own softplus switches to u above a threshold).</summary>
    public static Tensor Softplus(Tensor u) => u.relu().Plus(u.abs().neg().exp().log1p());

    /// <summary>Labels that must be exactly −1 or +1, as a float tensor of <paramref name="dtype"/>.</summary>
    public static Tensor SignLabels(Tensor labels, long count, ScalarType dtype, Device device, string paramName)
    {
        if (labels.Dimensions != 1 || labels.shape[0] != count)
        {
            ThrowHelper.ThrowArgument(paramName, $"has shape [{string.Join(", ", labels.shape)}] but [{count}] is required.");
        }

        var y = labels.to_type(dtype).to(device);
        using (var scope = NewDisposeScope())
        {
            if (!y.abs().eq(torch.ones_like(y)).all().item<bool>())
            {
                ThrowHelper.ThrowArgument(paramName, "must hold labels that are exactly -1 or +1.");
            }
        }

        return y;
    }
}


namespace Logits.TorchSharp.Tensors;

/// <summary>
/// The one door from a torch tensor to host memory for the logit kernels, batches and selectors: every
/// device-to-host transfer goes through here and is counted, so a test can assert how many transfers a pipeline
/// call makes (on a GPU each one is a synchronisation, the dominant cost of a sampling step).
/// </summary>
/// <remarks>
/// The count is per thread (kernels run on the caller's thread) and counts transfers, not bytes: one call here is
/// one read whatever its size. A read of a CPU tensor is counted too (it stands for the device case).
/// </remarks>
internal static class TorchHostReads
{
    [ThreadStatic]
    private static long t_count;

    /// <summary>The number of device-to-host transfers made on this thread since it started.</summary>
    public static long Count => t_count;

    /// <summary>Copies a float32 tensor of exactly <c>destination.Length</c> elements to host memory, row-major.</summary>
    public static void CopyTo(Tensor source, Span<float> destination)
    {
        t_count++;
        if (IsHostContiguous(source))
        {
            using var accessor = source.data<float>();
            accessor.CopyTo(destination, 0, 0);
            return;
        }

        using var scope = NewDisposeScope();
        var staging = source.to(CPU).contiguous();
        using var stagingAccessor = staging.data<float>();
        stagingAccessor.CopyTo(destination, 0, 0);
    }

    /// <summary>Copies a float32 tensor to a new host array.</summary>
    public static float[] Singles(Tensor tensor)
    {
        var result = new float[tensor.numel()];
        CopyTo(tensor, result);
        return result;
    }

    /// <summary>Copies an integer tensor to a new host array of 64-bit values.</summary>
    public static long[] Int64s(Tensor tensor)
    {
        t_count++;
        using var scope = NewDisposeScope();
        var staging = tensor.to_type(ScalarType.Int64).to(CPU).contiguous();
        using var accessor = staging.data<long>();
        return accessor.ToArray();
    }

    /// <summary>Copies a tensor to a new host array of float64 values.</summary>
    public static double[] Doubles(Tensor tensor)
    {
        t_count++;
        using var scope = NewDisposeScope();
        var staging = tensor.to_type(ScalarType.Float64).to(CPU).contiguous();
        using var accessor = staging.data<double>();
        return accessor.ToArray();
    }

    /// <summary>The value of a one-element tensor.</summary>
    public static T Item<T>(Tensor tensor)
        where T : unmanaged
    {
        t_count++;
        return tensor.item<T>();
    }

    private static bool IsHostContiguous(Tensor tensor) =>
        tensor.device_type == DeviceType.CPU && tensor.is_contiguous();
}

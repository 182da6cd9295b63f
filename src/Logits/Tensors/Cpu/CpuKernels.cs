
namespace Logits.Tensors.Cpu;

/// <summary>
/// The SIMD CPU implementation of <see cref="ILogitKernels"/>: row work on <see cref="Span{T}"/> with
/// <c>TensorPrimitives</c> and <see cref="System.Numerics.Vector{T}"/> loops, rows in parallel for
/// large batches (<see cref="RowRunner"/>). One file per operation.
/// </summary>
internal sealed partial class CpuKernels : ILogitKernels
{
    public static CpuKernels Instance { get; } = new();

    private CpuKernels()
    {
    }

    public string Name => "cpu";

    private static CpuLogitBatch AsCpu(LogitBatch batch, string paramName)
    {
        ArgumentNullException.ThrowIfNull(batch, paramName);
        if (batch is not CpuLogitBatch cpu)
        {
            ThrowHelper.ThrowArgument(paramName, $"is a {batch.GetType().Name}; every batch of a CPU kernel call must be a CpuLogitBatch.");
            return null!;
        }

        if (cpu.Support is null)
        {
            // A kernel outside a pipeline call may write the batch: maxima remembered by CopyRowFrom no longer hold.
            cpu.ForgetEntryMaxima();
        }

        return cpu;
    }

    private static CpuLogitBatch AsCpuLike(CpuLogitBatch reference, LogitBatch batch, string paramName)
    {
        var cpu = AsCpu(batch, paramName);
        reference.EnsureSameShape(cpu, paramName);
        return cpu;
    }

    /// <summary>
    /// The prelude of a row-wise map: <paramref name="x"/> and <paramref name="destination"/> as CPU batches of one
    /// shape, and <paramref name="perRowLength"/> (the length of the per-row argument <paramref name="perRowName"/>)
    /// equal to the rows.
    /// </summary>
    private static (CpuLogitBatch Source, CpuLogitBatch Target) AsCpuPair(LogitBatch x, LogitBatch destination, int perRowLength, string perRowName)
    {
        var source = AsCpu(x, nameof(x));
        var target = AsCpuLike(source, destination, nameof(destination));
        EnsurePerRow(source.Rows, perRowLength, perRowName);
        return (source, target);
    }

    private static void EnsurePerRow(int rows, int length, string paramName)
    {
        if (length != rows)
        {
            ThrowHelper.ThrowArgument(paramName, $"has {length} elements but the batch has {rows} rows; one value per row is required.");
        }
    }

    /// <summary>A pooled copy of a small per-row span, so a parallel job (a struct, not a ref struct) can read it.</summary>
    private static T[] RentCopy<T>(ReadOnlySpan<T> values)
    {
        var array = ArrayPool<T>.Shared.Rent(values.Length);
        values.CopyTo(array);
        return array;
    }
}

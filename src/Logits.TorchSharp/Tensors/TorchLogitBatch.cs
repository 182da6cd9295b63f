
namespace Logits.TorchSharp.Tensors;

/// <summary>
/// A <c>[rows, vocab]</c> logit batch held in a 2-D float32 torch tensor, processed by torch kernels on
/// the tensor's device.
/// </summary>
/// <remarks>
/// <para>A batch either owns its tensor (the constructor, <see cref="FromArray"/>, <see cref="FromCpu"/>,
/// <see cref="CreateLike"/>) and disposes it with the batch, or wraps a caller's tensor
/// (<see cref="Wrap"/>) without copying and without taking ownership.</para>
/// <para>An owned tensor is detached from any active <c>torch.NewDisposeScope()</c>, so the batch, not the
/// scope, decides its lifetime. A wrapped tensor may be a non-contiguous view (for example a slice of
/// model output): kernels read it through torch ops and write it with <c>copy_</c>, so views work.</para>
/// <para><b>Precision.</b> Logits are processed in float32. <see cref="Wrap"/> never copies, so it accepts only
/// float32 tensors that can be written in place; half, bfloat16 and float64 logits (and expanded views or
/// tensors that require grad) go through <see cref="FromTensor"/>, which upcasts (or rounds float64) into an owned
/// float32 copy: that copy costs one pass over the tensor and writes do not reach the source.</para>
/// </remarks>
public sealed partial class TorchLogitBatch : LogitBatch
{
    private readonly bool _ownsTensor;
    private readonly Tensor _tensor;

    /// <summary>Allocates a zero-filled batch that owns its tensor.</summary>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size, at least 1.</param>
    /// <param name="device">The device; <see langword="null"/> means the CPU.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    public TorchLogitBatch(int rows, int vocab, Device? device = null)
        : base(rows, vocab)
    {
        TorchRuntime.EnsureLoaded();
        _tensor = zeros(new long[] { rows, vocab }, ScalarType.Float32, device ?? CPU).DetachFromDisposeScope();
        _ownsTensor = true;
    }

    private TorchLogitBatch(Tensor tensor, bool ownsTensor)
        : base(checked((int)tensor.shape[0]), checked((int)tensor.shape[1]))
    {
        _tensor = tensor;
        _ownsTensor = ownsTensor;
    }

    /// <summary>The torch kernel set shared by every torch batch.</summary>
    public override ILogitKernels Kernels => TorchKernels.Instance;

    /// <summary>The underlying <c>[Rows, Vocab]</c> float32 tensor (possibly a non-contiguous view when wrapped).</summary>
    /// <remarks>Inside a pipeline call, handing the tensor out ends what the batch remembers about its entries (the
    /// entry check and the row maxima), since the caller may write it; a check the batch deferred is made first.</remarks>
    public Tensor Tensor
    {
        get
        {
            Expose();
            return _tensor;
        }
    }

    /// <summary>The tensor for the kernels, which keep the batch's remembered state themselves.</summary>
    internal Tensor Values => _tensor;

    /// <summary>The device the tensor lives on.</summary>
    public Device Device => _tensor.device;

    /// <summary>Wraps an existing 2-D float32 tensor without copying; the batch does not dispose it.</summary>
    /// <param name="tensor">A <c>[rows, vocab]</c> float32 tensor with both dimensions at least 1; kernels
    /// read and write it in place.</param>
    /// <returns>A batch over <paramref name="tensor"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tensor"/> is not 2-D float32 (half, bfloat16 and float64
    /// are not upcast here: use <see cref="FromTensor"/>, which copies), has an empty dimension or one above
    /// <see cref="int.MaxValue"/>, is an expanded view (stride 0 over a dimension longer than 1, so one element
    /// stands for several and cannot be written in place), or requires grad (in-place writes on it fail in
    /// libtorch; wrap <c>tensor.detach()</c>, which shares the memory).</exception>
    public static TorchLogitBatch Wrap(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dtype != ScalarType.Float32)
        {
            ThrowHelper.ThrowArgument(nameof(tensor), $"has dtype {tensor.dtype} but Wrap needs Float32 (it writes in place, never copies); TorchLogitBatch.FromTensor makes an owned float32 copy of a {tensor.dtype} tensor.");
        }

        var (rows, vocab) = RequireMatrix(tensor);
        var strides = tensor.stride();
        for (int d = 0; d < 2; d++)
        {
            if (strides[d] == 0 && tensor.shape[d] > 1)
            {
                ThrowHelper.ThrowArgument(nameof(tensor), $"is an expanded view (stride 0 in dimension {d} of shape [{rows}, {vocab}]): one element stands for several, so it cannot be written in place; wrap tensor.clone() or use TorchLogitBatch.FromTensor.");
            }
        }

        if (tensor.requires_grad)
        {
            ThrowHelper.ThrowArgument(nameof(tensor), "requires grad, so libtorch refuses the kernels' in-place writes; wrap tensor.detach() (it shares the memory) or use TorchLogitBatch.FromTensor.");
        }

        return new TorchLogitBatch(tensor, ownsTensor: false);
    }

    /// <summary>Creates a batch that owns a float32 copy of a 2-D floating-point tensor, on the tensor's device.</summary>
    /// <param name="tensor">A <c>[rows, vocab]</c> tensor of dtype Float32, Float64, Float16 or BFloat16, any layout
    /// (views, expanded views and tensors that require grad are fine: the values are copied, detached).</param>
    /// <returns>A new batch the caller owns; writes to it do not reach <paramref name="tensor"/>.</returns>
    /// <remarks>Half and bfloat16 values are upcast exactly; float64 values are rounded to the nearest float32 (a
    /// finite float64 beyond float32's range becomes ±∞, which the kernels then report as invalid logits).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tensor"/> is not 2-D, not floating point, or has an empty
    /// dimension or one above <see cref="int.MaxValue"/>.</exception>
    public static TorchLogitBatch FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
        {
            ThrowHelper.ThrowArgument(nameof(tensor), $"has dtype {tensor.dtype} but Float32, Float64, Float16 or BFloat16 logits are required.");
        }

        RequireMatrix(tensor);
        using var scope = NewDisposeScope();
        var copy = tensor.detach().to_type(ScalarType.Float32).contiguous().clone();
        return new TorchLogitBatch(copy.DetachFromDisposeScope(), ownsTensor: true);
    }

    private static (long Rows, long Vocab) RequireMatrix(Tensor tensor)
    {
        if (tensor.Dimensions != 2)
        {
            ThrowHelper.ThrowArgument(nameof(tensor), $"has {tensor.Dimensions} dimensions but a 2-D [rows, vocab] tensor is required.");
        }

        long rows = tensor.shape[0];
        long vocab = tensor.shape[1];
        if (rows < 1 || vocab < 1 || rows > int.MaxValue || vocab > int.MaxValue)
        {
            ThrowHelper.ThrowArgument(nameof(tensor), $"has shape [{rows}, {vocab}]; both dimensions must be in [1, {int.MaxValue}].");
        }

        return (rows, vocab);
    }

    /// <summary>Creates a batch that owns a copy of row-major <paramref name="values"/>.</summary>
    /// <param name="values">Exactly <c>rows * vocab</c> logits.</param>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="vocab">Vocabulary size, at least 1.</param>
    /// <param name="device">The device; <see langword="null"/> means the CPU.</param>
    /// <returns>A new batch the caller owns.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="values"/> has the wrong length.</exception>
    public static TorchLogitBatch FromArray(ReadOnlySpan<float> values, int rows, int vocab, Device? device = null)
    {
        if (values.Length != (long)rows * vocab)
        {
            ThrowHelper.ThrowArgument(nameof(values), $"has {values.Length} elements but rows * vocab = {(long)rows * vocab} are required.");
        }

        var batch = new TorchLogitBatch(rows, vocab, device);
        batch.CopyFrom(values);
        return batch;
    }

    /// <summary>Creates a batch that owns a copy of a CPU batch.</summary>
    /// <param name="batch">The CPU batch to copy.</param>
    /// <param name="device">The device; <see langword="null"/> means the CPU.</param>
    /// <returns>A new batch of the same shape the caller owns.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is null.</exception>
    public static TorchLogitBatch FromCpu(CpuLogitBatch batch, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return FromArray(batch.AsSpan(), batch.Rows, batch.Vocab, device);
    }

    /// <inheritdoc />
    public override LogitBatch CreateLike() => new TorchLogitBatch(Rows, Vocab, Device);

    /// <inheritdoc />
    public override void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(source), $"has {source.Length} elements but {Length} are required.");
        }

        Expose();
        if (IsHostContiguous(_tensor))
        {
            using var accessor = _tensor.data<float>();
            accessor.CopyFrom(source, 0, 0);
            return;
        }

        // Views and device tensors are filled through a contiguous CPU staging tensor.
        using var scope = NewDisposeScope();
        var staging = empty(new long[] { Rows, Vocab }, ScalarType.Float32, CPU);
        using (var accessor = staging.data<float>())
        {
            accessor.CopyFrom(source, 0, 0);
        }

        _tensor.copy_(staging);
    }

    /// <inheritdoc />
    public override void CopyTo(Span<float> destination)
    {
        if (destination.Length < Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Length} are required.");
        }

        ResolvePending();
        TorchHostReads.CopyTo(_tensor, destination[..checked((int)Length)]);
    }

    /// <inheritdoc />
    public override void CopyRowTo(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(row), row, $"must be in [0, {Rows})");
        }

        if (destination.Length < Vocab)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but {Vocab} are required.");
        }

        ResolvePending();
        using var scope = NewDisposeScope();
        TorchHostReads.CopyTo(_tensor.select(0, row), destination[..Vocab]);
    }

    /// <summary>Disposes the tensor when the batch owns it; a wrapped tensor is left to its owner.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="LogitBatch.Dispose()"/>.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropPending();
            if (_ownsTensor)
            {
                _tensor.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private static bool IsHostContiguous(Tensor tensor) =>
        tensor.device_type == DeviceType.CPU && tensor.is_contiguous();
}

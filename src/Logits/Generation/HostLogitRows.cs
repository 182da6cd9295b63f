
namespace Logits.Generation;

/// <summary>
/// Where a model that computes its logits on the host (llama.cpp, ONNX Runtime GenAI) writes the rows of a destination
/// batch of any backend: a <see cref="CpuLogitBatch"/>'s own memory, so nothing is copied, or else a staging buffer that
/// is reused from call to call and copied into the batch by <see cref="Complete"/>.
/// </summary>
/// <remarks>Not thread-safe: one instance serves one model's calls, one at a time.</remarks>
public sealed class HostLogitRows
{
    private float[]? _buffer;
    private int _length;

    /// <summary>Creates the staging for rows of <paramref name="vocab"/> logits.</summary>
    /// <param name="vocab">The length of a row, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocab"/> is below 1.</exception>
    public HostLogitRows(int vocab)
    {
        Vocab = Require.AtLeast(vocab, 1, nameof(vocab));
    }

    /// <summary>The length of a row.</summary>
    public int Vocab { get; }

    /// <summary>
    /// Checks that <paramref name="destination"/> is <c>[rows, Vocab]</c> and returns where its rows are written: row
    /// <c>r</c> at <c>[r · Vocab, (r + 1) · Vocab)</c>.
    /// </summary>
    /// <param name="destination">The batch the rows are for.</param>
    /// <param name="rows">The number of rows the caller fills.</param>
    /// <param name="parameterName">The caller's name of <paramref name="destination"/>, for the exception.</param>
    /// <returns>The batch's own memory for a CPU batch, otherwise the staging buffer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <c>[rows, Vocab]</c>.</exception>
    public Memory<float> Open(LogitBatch destination, int rows, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(destination, parameterName);
        if (destination.Rows != rows || destination.Vocab != Vocab)
        {
            throw new ArgumentException($"The batch is [{destination.Rows}, {destination.Vocab}] but [{rows}, {Vocab}] is needed.", parameterName);
        }

        _length = rows * Vocab;
        if (destination is CpuLogitBatch cpu)
        {
            return cpu.Memory;
        }

        if (_buffer is null || _buffer.Length < _length)
        {
            _buffer = new float[_length];
        }

        return _buffer.AsMemory(0, _length);
    }

    /// <summary>Copies the rows written since <see cref="Open"/> into <paramref name="destination"/>, unless they were
    /// written there in place (a CPU batch).</summary>
    /// <param name="destination">The batch given to <see cref="Open"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="destination"/> is null.</exception>
    public void Complete(LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination is not CpuLogitBatch)
        {
            destination.CopyFrom(_buffer.AsSpan(0, _length));
        }
    }
}

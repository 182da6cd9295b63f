
namespace Logits.TorchSharp.Rectification;

/// <summary>
/// A padded float32 Copilot training batch drawn from a <see cref="MistakeLog"/>: the mistake vectors, their mask,
/// the memory <c>M = [X̃ ; H̄]</c> and the lengths from which the memory mask is built.
/// </summary>
/// <remarks>
/// With <c>S_max = max_b (m_b + n_b − 1)</c>, each half of the memory is padded to <c>S_max</c> rows: row <c>k − 1</c>
/// holds <c>e_k</c> and row <c>S_max + k − 1</c> holds <c>h̄_k</c>. Padding is zero and is masked by
/// <see cref="CopilotDecoder.MemoryMask"/>. Disposing the batch disposes its tensors.
/// </remarks>
public sealed class CopilotBatch : IDisposable
{
    internal CopilotBatch(Tensor mistakes, Tensor targetMask, Tensor memory, IReadOnlyList<int> promptLengths, IReadOnlyList<int> targetLengths)
    {
        Mistakes = mistakes;
        TargetMask = targetMask;
        Memory = memory;
        PromptLengths = promptLengths;
        TargetLengths = targetLengths;
    }

    /// <summary>The mistake vectors <c>ℓ</c>, <c>[B, n_max, V]</c> float32 (zero at padding).</summary>
    public Tensor Mistakes { get; }

    /// <summary>Valid target positions, <c>[B, n_max]</c> bool.</summary>
    public Tensor TargetMask { get; }

    /// <summary>The memory <c>[X̃ ; H̄]</c>, <c>[B, 2·S_max, d_P]</c> float32.</summary>
    public Tensor Memory { get; }

    /// <summary><c>m_b</c> per sequence.</summary>
    public IReadOnlyList<int> PromptLengths { get; }

    /// <summary><c>n_b</c> per sequence.</summary>
    public IReadOnlyList<int> TargetLengths { get; }

    /// <summary>B, the number of sequences.</summary>
    public int Count => PromptLengths.Count;

    /// <summary>The input representation half <c>X̃</c> of <see cref="Memory"/>, <c>[B, S_max, d_P]</c> (a new view the caller disposes).</summary>
    /// <returns>The view.</returns>
    public Tensor InputRepresentation() => Memory.narrow(1, 0, Memory.shape[1] / 2);

    /// <summary>The pooled hidden-state half <c>H̄</c> of <see cref="Memory"/>, <c>[B, S_max, d_P]</c> (a new view the caller disposes).</summary>
    /// <returns>The view.</returns>
    public Tensor HiddenStates() => Memory.narrow(1, Memory.shape[1] / 2, Memory.shape[1] / 2);

    /// <summary>The memory mask of <see cref="CopilotDecoder.MemoryMask"/> for this batch, <c>[B, n_max, 2·S_max]</c> bool.</summary>
    /// <returns>A new tensor the caller disposes.</returns>
    public Tensor MemoryMask() =>
        CopilotDecoder.MemoryMask(PromptLengths, TargetLengths, Mistakes.shape[1], Memory.shape[1] / 2, Memory.device);

    /// <inheritdoc />
    public void Dispose()
    {
        Mistakes.Dispose();
        TargetMask.Dispose();
        Memory.Dispose();
    }
}

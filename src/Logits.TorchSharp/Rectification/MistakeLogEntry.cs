
namespace Logits.TorchSharp.Rectification;

/// <summary>One training sequence recorded in a <see cref="MistakeLog"/>.</summary>
/// <remarks>
/// The tensors are detached copies in the log's storage type and on its device. The log owns them: an entry is
/// disposed when it is evicted or when the log is disposed, so do not keep an entry beyond that.
/// </remarks>
public sealed class MistakeLogEntry : IDisposable
{
    internal MistakeLogEntry(Tensor inputRepresentation, Tensor hiddenStates, Tensor mistakes, Tensor targetMask, int promptLength, int targetLength)
    {
        InputRepresentation = inputRepresentation;
        HiddenStates = hiddenStates;
        Mistakes = mistakes;
        TargetMask = targetMask;
        PromptLength = promptLength;
        TargetLength = targetLength;
    }

    /// <summary><c>X̃ = e_1 … e_{m+n−1}</c>, the Pilot's embedding output, <c>[m+n−1, d_P]</c>.</summary>
    public Tensor InputRepresentation { get; }

    /// <summary><c>H̄ = h̄_1 … h̄_{m+n−1}</c>, the layer-pooled Pilot hidden states, <c>[m+n−1, d_P]</c>.</summary>
    public Tensor HiddenStates { get; }

    /// <summary><c>L = ℓ_1 … ℓ_n</c>, the mistake vectors, <c>[n, V]</c> (zero where <see cref="TargetMask"/> is false).</summary>
    public Tensor Mistakes { get; }

    /// <summary>Which of the <c>n</c> target positions have a mistake vector, <c>[n]</c> bool.</summary>
    public Tensor TargetMask { get; }

    /// <summary><c>m</c>, the number of prompt tokens.</summary>
    public int PromptLength { get; }

    /// <summary><c>n</c>, the number of target tokens.</summary>
    public int TargetLength { get; }

    /// <summary><c>m + n − 1</c>, the number of memory positions per half.</summary>
    public int MemoryLength => PromptLength + TargetLength - 1;

    /// <inheritdoc />
    public void Dispose()
    {
        InputRepresentation.Dispose();
        HiddenStates.Dispose();
        Mistakes.Dispose();
        TargetMask.Dispose();
    }
}

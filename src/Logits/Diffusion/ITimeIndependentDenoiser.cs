
namespace Logits.Diffusion;

/// <summary>RADD's time-independent denoiser: the clean-data conditional <c>c_θ(y | x)</c> of every position of a batch of partly masked sequences.</summary>
/// <remarks>
/// <para>
/// Given sequences <c>x ∈ {0…V−1, MaskId}^L</c> it returns, for every position and every real token <c>y</c>,
/// <c>ln c_θ(y | x)</c>; it has no time argument (RADD's theorem: the concrete score is an analytic time factor times this
/// conditional, docs/algorithms/discrete-diffusion.md#the-score-is-a-scaled-conditional). Rows of unmasked positions are ignored by the samplers.
/// </para>
/// <para>
/// The samplers treat each row as unnormalised log-weights (a per-row constant does not change any draw), so raw logits
/// over the real tokens are accepted too. NaN or +∞ in a row is an error; −∞ marks a token the denoiser rules out.
/// </para>
/// </remarks>
public interface ITimeIndependentDenoiser
{
    /// <summary>The number of real tokens <c>V</c>; the row width of <see cref="Predict"/>'s result.</summary>
    int Vocabulary { get; }

    /// <summary>The mask token id; outside <c>[0, V)</c> (RADD uses <c>V</c>).</summary>
    int MaskId { get; }

    /// <summary>Evaluates the conditional for a batch of sequences.</summary>
    /// <param name="tokens"><c>sequences × L</c> token ids, row-major; each a real token or <see cref="MaskId"/>.</param>
    /// <param name="sequences">The number of sequences, at least 1; <c>L = tokens.Length / sequences</c>.</param>
    /// <returns>A new batch of <c>sequences·L</c> rows (sequence-major) and <see cref="Vocabulary"/> columns; the caller disposes it.</returns>
    LogitBatch Predict(ReadOnlySpan<int> tokens, int sequences);
}

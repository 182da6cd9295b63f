namespace Logits.Processing.Truncation;

/// <summary>How <see cref="TopPProcessor"/> evaluates the nucleus boundary.</summary>
public enum TopPMode
{
    /// <summary>
    /// Descending float64 prefix with the 1e-6 tolerance: the shortest rank-order prefix whose mass reaches
    /// <c>P</c> (docs/algorithms/truncation.md#top-p, default). No full sort on the CPU.
    /// </summary>
    Inclusive,

    /// <summary>
    /// Hugging Face's complement test in float32, for parity with HF output: sort probabilities ascending,
    /// remove tokens whose ascending cumulative mass is <c>≤ 1 − P</c>, keep at least <c>minTokensToKeep</c>.
    /// Ties are value-based as in the default. Sorts each row on the host.
    /// </summary>
    HfComplement,
}

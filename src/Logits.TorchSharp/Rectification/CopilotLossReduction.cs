namespace Logits.TorchSharp.Rectification;

/// <summary>How <see cref="CopilotMath.CopilotLoss"/> reduces the squared errors of a batch.</summary>
/// <remarks>
/// The paper (Zou et al., arXiv 2505.16270, Eq. 7) writes the loss of one sequence as the root of the sum of its squared
/// errors, <c>sqrt(Σ_i ‖f^C_i − ℓ_i‖²)</c>; <see cref="RootSumSquare"/> is that, averaged over the batch, and is the
/// trainer's default. <see cref="RootMeanSquare"/> divides by the number of entries before the root, so its scale does not
/// grow with the answer length or the vocabulary.
/// </remarks>
public enum CopilotLossReduction
{
    /// <summary>
    /// <c>sqrt( Σ_b S_b / (N_valid · V) )</c>: the root of the mean over every valid position × vocabulary entry of
    /// the batch.
    /// </summary>
    RootMeanSquare = 0,

    /// <summary>
    /// <c>mean_b sqrt(S_b)</c> over the sequences with at least one valid position; with batch size 1 this is the
    /// paper's <c>sqrt(Σ_i ‖f^C_i − ℓ_i‖²)</c> (Eq. 7; the trainer's default).
    /// </summary>
    RootSumSquare = 1,
}

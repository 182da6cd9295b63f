namespace Logits.TorchSharp.Rectification;

/// <summary>How <see cref="CopilotMath.CopilotLoss"/> reduces the squared errors of a batch (docs/algorithms/paper-methods.md#copilot-loss).</summary>
/// <remarks>
/// The paper (Zou et al., arXiv 2505.16270, Eq. 7) calls the loss RMSE without pinning the normalisation; library
/// decision makes <see cref="RootMeanSquare"/> the default.
/// </remarks>
public enum CopilotLossReduction
{
    /// <summary>
    /// <c>sqrt( Σ_b S_b / (N_valid · V) )</c>: the root of the mean over every valid position × vocabulary entry of
    /// the batch (the default).
    /// </summary>
    RootMeanSquare = 0,

    /// <summary>
    /// <c>mean_b sqrt(S_b)</c> over the sequences with at least one valid position; with batch size 1 this is the
    /// paper's <c>sqrt(Σ_i ‖f^C_i − ℓ_i‖²)</c>.
    /// </summary>
    RootSumSquare = 1,
}


namespace Logits.Optimization;

/// <summary>Converts the step-size convention of the official code of target-based surrogates to this library's η.</summary>
/// <remarks>
/// <para>The official code of Lavington et al. minimises the batch mean of <c>s·G̃_i·z_i(θ) + (z_i(θ) − z_{t,i})²</c>,
/// where s is its "stepsize" and <c>G̃</c> the gradient of the <i>mean</i> batch loss; it drops the constants. That
/// has the minimiser of <c>⟨G̃, z − z_t⟩ + ‖z − z_t‖²/s</c>. Matching the paper form
/// <c>⟨G, z − z_t⟩ + ‖z − z_t‖²/(2η)</c> gives <c>η = s/2</c> when G is the mean-loss gradient
/// (<see cref="SurrogateReduction.Mean"/>), and <c>η = s/(2·B)</c> when G is the sum-loss gradient
/// (<see cref="SurrogateReduction.Sum"/>, <c>G = B·G̃</c>) for a batch of B rows.</para>
/// </remarks>
public static class SsoConventions
{
    /// <summary>The η of this library that reproduces the official code's stepsize s.</summary>
    /// <param name="stepSize">s, finite and &gt; 0.</param>
    /// <param name="batchSize">B ≥ 1, the rows per batch.</param>
    /// <param name="reduction">The reduction of the loss whose gradient G is passed to the surrogate.</param>
    /// <returns>η = s/2 for <see cref="SurrogateReduction.Mean"/>, s/(2B) for <see cref="SurrogateReduction.Sum"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range.</exception>
    public static double FromOfficialStepSize(double stepSize, int batchSize, SurrogateReduction reduction = SurrogateReduction.Sum)
    {
        Require.FinitePositive(stepSize, nameof(stepSize));
        Require.AtLeast(batchSize, 1, nameof(batchSize));

        TargetLoss.CheckReduction(reduction);
        return reduction == SurrogateReduction.Mean ? stepSize / 2 : stepSize / (2.0 * batchSize);
    }
}

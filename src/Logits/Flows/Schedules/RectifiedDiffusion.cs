
namespace Logits.Flows.Schedules;

/// <summary>The regression target of a Rectified Diffusion training batch.</summary>
public enum MatchedPairTarget
{
    /// <summary>ε (the paper's Algorithm 4, ε-prediction).</summary>
    Epsilon,

    /// <summary>x̂0 (the official script converts ε̂ to x̂0 and uses the element-wise pseudo-Huber on x̂0 − x0).</summary>
    Data,

    /// <summary>The path velocity <c>α′·x̂0 + σ′·ε</c> (continuous schedules only).</summary>
    FlowVelocity,
}

/// <summary>
/// Rectified Diffusion's pieces (Wang et al. 2024, "Rectified Diffusion: Straightness Is Not Your Need in Rectified
/// Flow"; docs/algorithms/flows.md#rectified-diffusion): training batches on matched (ε, x̂0) pairs under the model's own schedule, and the
/// phase-noise recovery of the phased variant.
/// </summary>
public static class RectifiedDiffusion
{
    /// <summary>
    /// Builds a matched-pair training batch at time t: <c>x_t = α_t·x̂0 + σ_t·ε</c> with the same ε that produced x̂0,
    /// and the chosen target.
    /// </summary>
    /// <param name="data">x̂0, the samples the pretrained model made from <paramref name="noise"/>.</param>
    /// <param name="noise">ε.</param>
    /// <param name="t">The time (on the grid for discrete schedules).</param>
    /// <param name="schedule">The pretrained model's schedule.</param>
    /// <param name="target">The target kind.</param>
    /// <param name="interpolant">Receives x_t.</param>
    /// <param name="targetDestination">Receives the target.</param>
    /// <exception cref="ArgumentException">Shapes differ, or t is off a discrete grid.</exception>
    /// <exception cref="NotSupportedException"><see cref="MatchedPairTarget.FlowVelocity"/> on a discrete schedule.</exception>
    public static void BuildMatchedPairBatch(LogitBatch data, LogitBatch noise, double t, DiffusionSchedule schedule, MatchedPairTarget target, LogitBatch interpolant, LogitBatch targetDestination)
    {
        PredictionConversions.Check(data, noise, schedule, interpolant);
        data.EnsureSameShape(targetDestination, nameof(targetDestination));
        Require.Defined(target, nameof(target));

        PredictionConversions.Combine(schedule.Alpha(t), data, schedule.Sigma(t), noise, interpolant);
        switch (target)
        {
            case MatchedPairTarget.Epsilon:
                FlowSampler.CopyInto(noise, targetDestination);
                break;
            case MatchedPairTarget.Data:
                FlowSampler.CopyInto(data, targetDestination);
                break;
            default:
                PredictionConversions.VelocityFromPair(data, noise, t, schedule, targetDestination);
                break;
        }
    }

    /// <summary>
    /// The noise implied by two points of one first-order path (docs/algorithms/flows.md#phase-noise):
    /// <c>ε = (x_b/α_b − x_a/α_a) / (σ_b/α_b − σ_a/α_a)</c> for t_a &lt; t_b.
    /// </summary>
    /// <param name="xa">x at t_a.</param>
    /// <param name="ta">The earlier time.</param>
    /// <param name="xb">x at t_b.</param>
    /// <param name="tb">The later time.</param>
    /// <param name="schedule">The path.</param>
    /// <param name="destination">Receives ε.</param>
    /// <exception cref="ArgumentException"><paramref name="ta"/> is not earlier than <paramref name="tb"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">α = 0 at one of the times.</exception>
    public static void NoiseBetween(LogitBatch xa, double ta, LogitBatch xb, double tb, DiffusionSchedule schedule, LogitBatch destination)
    {
        PredictionConversions.Check(xa, xb, schedule, destination);
        if (!(ta < tb))
        {
            ThrowHelper.ThrowArgument(nameof(ta), $"= {ta} must be earlier than tb = {tb}.");
        }

        double alphaA = PredictionConversions.NonZero(schedule.Alpha(ta), "alpha(ta)", ta);
        double alphaB = PredictionConversions.NonZero(schedule.Alpha(tb), "alpha(tb)", tb);
        double denominator = (schedule.Sigma(tb) / alphaB) - (schedule.Sigma(ta) / alphaA);
        PredictionConversions.Combine(1 / (alphaB * denominator), xb, -1 / (alphaA * denominator), xa, destination);
    }
}

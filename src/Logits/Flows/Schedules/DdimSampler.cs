
namespace Logits.Flows.Schedules;

/// <summary>
/// The first-order (DDIM, η = 0) sampler on a diffusion path, in library time (Song, Meng, Ermon 2021; Rectified
/// Diffusion, Wang et al. 2024, Eq. 2; docs/algorithms/flows.md#ddim).
/// </summary>
/// <remarks>
/// <para>From t to a later (cleaner) t′ with ε̂ = ε̂(x_t, t): <c>x̂0 = (x_t − σ_t·ε̂)/α_t</c>,
/// <c>x_{t′} = α_{t′}·x̂0 + σ_{t′}·ε̂</c>, computed as one combination
/// <c>x_{t′} = (α_{t′}/α_t)·x_t + (σ_{t′} − α_{t′}σ_t/α_t)·ε̂</c> (the paper's Eq. 2 rearranged). If ε̂ is constant along
/// the trajectory the update is exact on any grid (first-order invariance, Theorem 1).</para>
/// <para>The ε̂-only forms divide by α_t, so they throw where α_t = 0 (<see cref="LinearFlowSchedule"/> at t = 0); use
/// <see cref="SampleWithVelocity"/> or <see cref="StepFromPair"/>, which never divide by α_t. On the linear path with
/// a velocity model DDIM equals Euler.</para>
/// <para>Grids: <see cref="DiffusionSchedule.SamplingTimes"/> (i/N for continuous paths, trailing for discrete ones).</para>
/// </remarks>
public sealed class DdimSampler
{
    private readonly double[] _times;

    /// <summary>Creates a sampler.</summary>
    /// <param name="schedule">The path.</param>
    /// <param name="steps">N, in [1, 2³⁰] (at most T for discrete schedules).</param>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is out of range.</exception>
    public DdimSampler(DiffusionSchedule schedule, int steps)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        _times = schedule.SamplingTimes(steps);
        Steps = steps;
    }

    /// <summary>The path.</summary>
    public DiffusionSchedule Schedule { get; }

    /// <summary>N.</summary>
    public int Steps { get; }

    /// <summary>The sampling time t_i.</summary>
    /// <param name="index">i in [0, N].</param>
    /// <returns>t_i.</returns>
    public double Time(int index) => _times[index];

    /// <summary>One DDIM step from the noise prediction: <c>x_{t′} = (α_{t′}/α_t)·x_t + (σ_{t′} − α_{t′}σ_t/α_t)·ε̂</c>.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="noise">ε̂(x_t, t).</param>
    /// <param name="t">The current time.</param>
    /// <param name="next">The next time.</param>
    /// <param name="schedule">The path.</param>
    /// <param name="destination">Receives x_{t′} (may alias an input).</param>
    /// <exception cref="ArgumentOutOfRangeException">α_t = 0, or a time is out of range.</exception>
    public static void Step(LogitBatch x, LogitBatch noise, double t, double next, DiffusionSchedule schedule, LogitBatch destination)
    {
        PredictionConversions.Check(x, noise, schedule, destination);
        double alpha = PredictionConversions.NonZero(schedule.Alpha(t), "alpha(t)", t);
        double ratio = schedule.Alpha(next) / alpha;
        PredictionConversions.Combine(ratio, x, schedule.Sigma(next) - (ratio * schedule.Sigma(t)), noise, destination);
    }

    /// <summary>One DDIM step from a (x̂0, ε̂) pair: <c>x_{t′} = α_{t′}·x̂0 + σ_{t′}·ε̂</c> (never divides by α_t).</summary>
    /// <param name="data">x̂0.</param>
    /// <param name="noise">ε̂.</param>
    /// <param name="next">The next time.</param>
    /// <param name="schedule">The path.</param>
    /// <param name="destination">Receives x_{t′} (may alias an input).</param>
    public static void StepFromPair(LogitBatch data, LogitBatch noise, double next, DiffusionSchedule schedule, LogitBatch destination)
    {
        PredictionConversions.Check(data, noise, schedule, destination);
        PredictionConversions.Combine(schedule.Alpha(next), data, schedule.Sigma(next), noise, destination);
    }

    /// <summary>Runs the whole grid with a noise predictor, in place.</summary>
    /// <param name="predictor">ε̂(x, t).</param>
    /// <param name="state">x at t_0 on entry (usually α_0·x0 + σ_0·ε, pure noise when α_0 ≈ 0); the sample on return.</param>
    /// <returns>NFE = N and the steps.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">α = 0 at a grid time (use <see cref="SampleWithVelocity"/>).</exception>
    public FlowSampleResult Sample(INoisePredictor predictor, LogitBatch state)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(state);
        using var noise = state.CreateLike();
        for (int i = 0; i < Steps; i++)
        {
            predictor.Predict(state, _times[i], noise);
            Step(state, noise, _times[i], _times[i + 1], Schedule, state);
        }

        return new FlowSampleResult(Steps, Steps);
    }

    /// <summary>
    /// Runs the grid with a path-velocity model: each step converts u to (x̂0, ε̂) by the conversions of docs/algorithms/flows.md#prediction-conversions and applies
    /// <see cref="StepFromPair"/>. Needs a continuous schedule.
    /// </summary>
    /// <param name="field">The path velocity u(x, t) = dx_t/dt.</param>
    /// <param name="state">x at t_0 on entry; the sample on return.</param>
    /// <returns>NFE = N and the steps.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public FlowSampleResult SampleWithVelocity(IVelocityField field, LogitBatch state)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(state);
        using var velocity = state.CreateLike();
        using var data = state.CreateLike();
        using var noise = state.CreateLike();
        for (int i = 0; i < Steps; i++)
        {
            double t = _times[i];
            field.Evaluate(state, t, velocity);
            PredictionConversions.DataFromVelocity(state, velocity, t, Schedule, data);
            PredictionConversions.NoiseFromVelocity(state, velocity, t, Schedule, noise);
            StepFromPair(data, noise, _times[i + 1], Schedule, state);
        }

        return new FlowSampleResult(Steps, Steps);
    }
}

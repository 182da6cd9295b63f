
namespace Logits.Flows.Schedules;

/// <summary>
/// Conversions between ε, x̂0 and path-velocity predictions on a general path <c>x_t = α_t·x0 + σ_t·ε</c>
/// (docs/algorithms/flows.md#prediction-conversions), each one <see cref="ILogitKernels.Affine"/> call with float64 coefficients.
/// </summary>
/// <remarks>
/// With <c>D = σ′α − σα′</c> (non-zero for every shipped continuous path): from ε̂, <c>x̂0 = (x − σε̂)/α</c>; from x̂0,
/// <c>ε̂ = (x − αx̂0)/σ</c>; from the path velocity u, <c>x̂0 = (σ′x − σu)/D</c> and <c>ε̂ = (αu − α′x)/D</c>. For
/// <see cref="LinearFlowSchedule"/>, D = −1, so <c>x̂0 = x + (1 − t)u</c> and <c>ε̂ = x − tu</c>. Diffusers' v-prediction
/// (<c>v = αε − σx0</c> for α² + σ² = 1) is a different quantity: <see cref="DataFromDiffusersV"/>. Dividing by α
/// amplifies errors by 1/α at the noisy end (docs/algorithms/flows.md#schedules); nothing is clamped — α = 0 or σ = 0 throws.
/// </remarks>
public static class PredictionConversions
{
    /// <summary><c>x̂0 = (x − σ·ε̂)/α</c>.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="noise">ε̂.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">The path.</param>
    /// <param name="destination">Receives x̂0.</param>
    /// <exception cref="ArgumentOutOfRangeException">α(t) = 0 or t is out of range.</exception>
    public static void DataFromNoise(LogitBatch x, LogitBatch noise, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(x, noise, schedule, destination);
        double alpha = NonZero(schedule.Alpha(t), "alpha(t)", t);
        Combine(1 / alpha, x, -schedule.Sigma(t) / alpha, noise, destination);
    }

    /// <summary><c>ε̂ = (x − α·x̂0)/σ</c>.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="data">x̂0.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">The path.</param>
    /// <param name="destination">Receives ε̂.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ(t) = 0 or t is out of range.</exception>
    public static void NoiseFromData(LogitBatch x, LogitBatch data, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(x, data, schedule, destination);
        double sigma = NonZero(schedule.Sigma(t), "sigma(t)", t);
        Combine(1 / sigma, x, -schedule.Alpha(t) / sigma, data, destination);
    }

    /// <summary><c>x̂0 = (σ′x − σu)/D</c> from the path velocity u.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="velocity">u = dx_t/dt.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">A continuous path.</param>
    /// <param name="destination">Receives x̂0.</param>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public static void DataFromVelocity(LogitBatch x, LogitBatch velocity, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(x, velocity, schedule, destination);
        double d = Determinant(schedule, t);
        Combine(schedule.SigmaDerivative(t) / d, x, -schedule.Sigma(t) / d, velocity, destination);
    }

    /// <summary><c>ε̂ = (αu − α′x)/D</c> from the path velocity u.</summary>
    /// <param name="x">x_t.</param>
    /// <param name="velocity">u = dx_t/dt.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">A continuous path.</param>
    /// <param name="destination">Receives ε̂.</param>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public static void NoiseFromVelocity(LogitBatch x, LogitBatch velocity, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(x, velocity, schedule, destination);
        double d = Determinant(schedule, t);
        Combine(-schedule.AlphaDerivative(t) / d, x, schedule.Alpha(t) / d, velocity, destination);
    }

    /// <summary>The path velocity of a pair: <c>u = α′·x0 + σ′·ε</c>.</summary>
    /// <param name="data">x0.</param>
    /// <param name="noise">ε.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">A continuous path.</param>
    /// <param name="destination">Receives u.</param>
    /// <exception cref="NotSupportedException">The schedule is discrete.</exception>
    public static void VelocityFromPair(LogitBatch data, LogitBatch noise, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(data, noise, schedule, destination);
        Combine(schedule.AlphaDerivative(t), data, schedule.SigmaDerivative(t), noise, destination);
    }

    /// <summary>Diffusers' v-prediction to data: <c>x̂0 = α·x − σ·v</c> (valid when α² + σ² = 1).</summary>
    /// <param name="x">x_t.</param>
    /// <param name="v">The diffusers v.</param>
    /// <param name="t">The time.</param>
    /// <param name="schedule">A variance-preserving path.</param>
    /// <param name="destination">Receives x̂0.</param>
    public static void DataFromDiffusersV(LogitBatch x, LogitBatch v, double t, DiffusionSchedule schedule, LogitBatch destination)
    {
        Check(x, v, schedule, destination);
        Combine(schedule.Alpha(t), x, -schedule.Sigma(t), v, destination);
    }

    internal static void Check(LogitBatch a, LogitBatch b, DiffusionSchedule schedule, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(schedule);
        a.EnsureSameShape(b, nameof(b));
        a.EnsureSameShape(destination, nameof(destination));
    }

    internal static void Combine(double ca, LogitBatch a, double cb, LogitBatch b, LogitBatch destination) =>
        a.Kernels.Affine((float)ca, a, (float)cb, b, 0, null, destination);

    internal static double NonZero(double value, string what, double t)
    {
        if (value == 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(t), t, $"gives {what} = 0, which this conversion divides by");
        }

        return value;
    }

    private static double Determinant(DiffusionSchedule schedule, double t)
    {
        double d = (schedule.SigmaDerivative(t) * schedule.Alpha(t)) - (schedule.Sigma(t) * schedule.AlphaDerivative(t));
        return NonZero(d, "D = sigma' alpha - sigma alpha'", t);
    }
}

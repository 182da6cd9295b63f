
namespace Logits.Flows.Training;

/// <summary>
/// A stored reflow coupling (z0, z1 = ODE(z0)) and the NFE spent making it (docs/algorithms/flows.md#reflow). Owns both batches.
/// </summary>
public sealed class ReflowPairs : IDisposable
{
    private ReflowPairs(LogitBatch start, LogitBatch end, int evaluations)
    {
        Start = start;
        End = end;
        FunctionEvaluations = evaluations;
    }

    /// <summary>z0, the noise.</summary>
    public LogitBatch Start { get; }

    /// <summary>z1, the endpoint the flow carried z0 to.</summary>
    public LogitBatch End { get; }

    /// <summary>The velocity evaluations used to generate the pairs.</summary>
    public int FunctionEvaluations { get; }

    /// <summary>
    /// Reflow step 2: integrates fresh noise through the current flow and stores the pairs
    /// (Liu, Gong, Liu 2022; docs/algorithms/flows.md#reflow; the official code uses RK45 at 1e-5 from ε — here any fixed-step sampler, e.g. RK4).
    /// </summary>
    /// <param name="field">The k-rectified flow's velocity.</param>
    /// <param name="sampler">The ODE sampler (forward).</param>
    /// <param name="noise">z0 ~ π0, <c>[samples, d]</c>; copied, not modified.</param>
    /// <returns>The pairs; the caller disposes them.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static ReflowPairs Generate(IVelocityField field, FlowSampler sampler, LogitBatch noise)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        return Generate(field, noise, (f, end) => sampler.Sample(f, end));
    }

    /// <summary>Reflow step 2 with the adaptive reference solver (the official code's RK45 at 1e-5).</summary>
    /// <param name="field">The k-rectified flow's velocity.</param>
    /// <param name="sampler">The Dormand–Prince solver (forward).</param>
    /// <param name="noise">z0 ~ π0; copied, not modified.</param>
    /// <returns>The pairs; the caller disposes them.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">The solver exhausted its step budget.</exception>
    public static ReflowPairs Generate(IVelocityField field, Dopri5Sampler sampler, LogitBatch noise)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        return Generate(field, noise, (f, end) => sampler.Sample(f, end));
    }

    private static ReflowPairs Generate(IVelocityField field, LogitBatch noise, Func<IVelocityField, LogitBatch, FlowSampleResult> integrate)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(noise);
        var start = noise.CreateLike();
        var end = noise.CreateLike();
        try
        {
            FlowSampler.CopyInto(noise, start);
            FlowSampler.CopyInto(noise, end);
            var result = integrate(field, end);
            return new ReflowPairs(start, end, result.FunctionEvaluations);
        }
        catch
        {
            start.Dispose();
            end.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reflow step 3: a training batch on the stored coupling: <c>x_t = t·z1 + (1 − t)·z0</c> and target <c>z1 − z0</c>.
    /// </summary>
    /// <param name="times">One time per pair (e.g. from an <see cref="ITimeSampler"/>).</param>
    /// <param name="interpolant">Receives x_t.</param>
    /// <param name="target">Receives z1 − z0.</param>
    /// <exception cref="ArgumentException">Shapes or lengths do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is outside [0, 1].</exception>
    public void TrainingBatch(ReadOnlySpan<float> times, LogitBatch interpolant, LogitBatch target)
    {
        RectifiedFlowTargets.Interpolate(Start, End, times, interpolant);
        RectifiedFlowTargets.VelocityTarget(Start, End, target);
    }

    /// <summary>The transport cost <c>E‖z1 − z0‖²</c> of the coupling.</summary>
    /// <returns>The mean squared distance.</returns>
    public double TransportCost() => Straightness.TransportCost(Start, End);

    /// <inheritdoc />
    public void Dispose()
    {
        Start.Dispose();
        End.Dispose();
    }
}

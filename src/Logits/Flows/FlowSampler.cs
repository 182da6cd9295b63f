
namespace Logits.Flows;

/// <summary>
/// An immutable fixed-step ODE sampler for <c>dZ_t = v(Z_t, t)dt</c> (Rectified Flow, docs/algorithms/flows.md#ode-solvers):
/// a solver, a time grid, and options, integrating a batch in place on either backend.
/// </summary>
/// <remarks>
/// <para>Each step goes from integration time τ to τ + h (h &lt; 0 when integrating <see cref="FlowDirection.Backward"/>);
/// the field is evaluated at <c>TimeScale · g(stage time)</c>, with <c>g</c> the grid's map
/// (<see cref="TimeGrid.EvaluationTime"/>).</para>
/// <list type="table">
/// <listheader><term>Solver</term><description>NFE per step, order</description></listheader>
/// <item><term>Euler</term><description>1, 1</description></item>
/// <item><term>Midpoint</term><description>2, 2</description></item>
/// <item><term>Heun</term><description>2, 2 (2N − 1 in total with <see cref="SkipFinalCorrection"/>: the last step is Euler,
/// the EDM/rfpp habit for fields undefined at the final time)</description></item>
/// <item><term>RungeKutta4</term><description>4, 4</description></item>
/// <item><term>FixedNoise</term><description>1 (rfpp's re-interpolation, forward only)</description></item>
/// </list>
/// <para>All arithmetic on the state runs through <see cref="ILogitKernels.Affine"/>, so it is float32 on both
/// backends with the same operation order; coefficients (h, h/2, h/6…) are computed in float64 and rounded once.
/// Temporaries come from <see cref="LogitBatch.CreateLike"/> and are disposed before the call returns. The
/// Affine kernel rejects NaN and <c>+∞</c> in its inputs and results, so a field that returns a non-finite value
/// fails at the next combination with <see cref="InvalidLogitsException"/> (stage <c>"affine"</c> or <c>"input"</c>)
/// rather than an <see cref="ArithmeticException"/>; the state is then partially updated.</para>
/// <para>The adaptive Dormand–Prince 5(4) reference solver is <see cref="Dopri5Sampler"/>.</para>
/// </remarks>
public sealed class FlowSampler
{
    /// <summary>Creates a sampler.</summary>
    /// <param name="solver">The update rule.</param>
    /// <param name="grid">The time grid.</param>
    /// <param name="skipFinalCorrection">Heun only: make the last step a plain Euler step (2N − 1 evaluations).</param>
    /// <param name="timeScale">Multiplies every time passed to the field (the official RF network sees 999·t); finite and &gt; 0.</param>
    /// <exception cref="ArgumentNullException"><paramref name="grid"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="solver"/> is not defined or <paramref name="timeScale"/> is not finite and positive.</exception>
    public FlowSampler(OdeSolver solver, TimeGrid grid, bool skipFinalCorrection = false, double timeScale = 1)
    {
        ArgumentNullException.ThrowIfNull(grid);
        Solver = Require.Defined(solver, nameof(solver));

        TimeScale = Require.FinitePositive(timeScale, nameof(timeScale));

        Grid = grid;
        SkipFinalCorrection = skipFinalCorrection;
    }

    /// <summary>The update rule.</summary>
    public OdeSolver Solver { get; }

    /// <summary>The time grid.</summary>
    public TimeGrid Grid { get; }

    /// <summary>Whether Heun's last step is a plain Euler step.</summary>
    public bool SkipFinalCorrection { get; }

    /// <summary>The factor applied to every time passed to the field.</summary>
    public double TimeScale { get; }

    /// <summary>The number of field evaluations one run uses.</summary>
    public int FunctionEvaluations => Solver switch
    {
        OdeSolver.Midpoint => 2 * Grid.Steps,
        OdeSolver.Heun => (2 * Grid.Steps) - (SkipFinalCorrection ? 1 : 0),
        OdeSolver.RungeKutta4 => 4 * Grid.Steps,
        _ => Grid.Steps,
    };

    /// <summary>Euler on the uniform grid, the paper's sampler <c>Z_{t+1/N} = Z_t + v(Z_t, t)/N</c>.</summary>
    /// <param name="steps">N.</param>
    /// <returns>The sampler.</returns>
    public static FlowSampler Euler(int steps) => new(OdeSolver.Euler, TimeGrid.Uniform(steps));

    /// <summary>Integrates <paramref name="state"/> in place through the whole grid.</summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="state">The start points on entry (noise for <see cref="FlowDirection.Forward"/>), the end points on return.</param>
    /// <param name="direction">Forward (τ_0 → τ_N) or backward (τ_N → τ_0).</param>
    /// <param name="trajectory">When not null, receives the state at the start and after every step (appended).</param>
    /// <returns>The evaluations and steps used.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="field"/> or <paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="direction"/> is not defined.</exception>
    /// <exception cref="NotSupportedException"><see cref="OdeSolver.FixedNoise"/> integrated backward.</exception>
    /// <exception cref="InvalidLogitsException">The field produced NaN or <c>±∞</c> that reached a combination.</exception>
    public FlowSampleResult Sample(IVelocityField field, LogitBatch state, FlowDirection direction = FlowDirection.Forward, FlowTrajectory? trajectory = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(state);
        Require.Defined(direction, nameof(direction));

        if (Solver == OdeSolver.FixedNoise && direction == FlowDirection.Backward)
        {
            throw new NotSupportedException("The fixed-noise sampler re-interpolates towards the initial noise and has no backward form.");
        }

        int steps = Grid.Steps;
        bool forward = direction == FlowDirection.Forward;
        using var work = new Workspace(state, Solver);
        trajectory?.Record(forward ? Grid.Start : Grid.End, state);
        if (Solver == OdeSolver.FixedNoise)
        {
            CopyInto(state, work.Initial!);
        }

        int evaluations = 0;
        for (int s = 0; s < steps; s++)
        {
            double tau = forward ? Grid.Time(s) : Grid.Time(steps - s);
            double next = forward ? Grid.Time(s + 1) : Grid.Time(steps - s - 1);
            bool last = s == steps - 1;
            evaluations += Step(field, state, tau, next, last, work);
            trajectory?.Record(next, state);
        }

        return new FlowSampleResult(evaluations, steps);
    }

    private int Step(IVelocityField field, LogitBatch z, double tau, double next, bool last, Workspace w)
    {
        var k = z.Kernels;
        double h = next - tau;
        switch (Solver)
        {
            case OdeSolver.Euler:
                Eval(field, z, tau, w.K1);
                k.Affine(1, z, (float)h, w.K1, 0, null, z);
                return 1;

            case OdeSolver.Midpoint:
                Eval(field, z, tau, w.K1);
                k.Affine(1, z, (float)(0.5 * h), w.K1, 0, null, w.Temp!);
                Eval(field, w.Temp!, tau + (0.5 * h), w.K2!);
                k.Affine(1, z, (float)h, w.K2!, 0, null, z);
                return 2;

            case OdeSolver.Heun:
                Eval(field, z, tau, w.K1);
                if (last && SkipFinalCorrection)
                {
                    k.Affine(1, z, (float)h, w.K1, 0, null, z);
                    return 1;
                }

                k.Affine(1, z, (float)h, w.K1, 0, null, w.Temp!);
                Eval(field, w.Temp!, next, w.K2!);
                k.Affine(1, z, (float)(0.5 * h), w.K1, (float)(0.5 * h), w.K2!, z);
                return 2;

            case OdeSolver.RungeKutta4:
                Eval(field, z, tau, w.K1);
                double mid = tau + (0.5 * h);
                k.Affine(1, z, (float)(0.5 * h), w.K1, 0, null, w.Temp!);
                Eval(field, w.Temp!, mid, w.K2!);
                k.Affine(1, z, (float)(0.5 * h), w.K2!, 0, null, w.Temp!);
                Eval(field, w.Temp!, mid, w.K3!);
                k.Affine(1, z, (float)h, w.K3!, 0, null, w.Temp!);
                Eval(field, w.Temp!, next, w.K4!);

                // z + h(k1 + 2k2 + 2k3 + k4)/6 in two three-term combinations.
                k.Affine(1, z, (float)(h / 6), w.K1, (float)(h / 3), w.K2!, z);
                k.Affine(1, z, (float)(h / 3), w.K3!, (float)(h / 6), w.K4!, z);
                return 4;

            default:
                // rfpp: x̂ = z + (1 − τ)v; z_next = τ_next·x̂ + (1 − τ_next)·z0 = τ_next·z + τ_next(1 − τ)v + (1 − τ_next)·z0.
                Eval(field, z, tau, w.K1);
                k.Affine((float)next, z, (float)(next * (1 - tau)), w.K1, (float)(1 - next), w.Initial!, z);
                return 1;
        }
    }

    private void Eval(IVelocityField field, LogitBatch x, double tau, LogitBatch destination) =>
        field.Evaluate(x, TimeScale * Grid.EvaluationTime(tau), destination);

    internal static void CopyInto(LogitBatch source, LogitBatch destination) =>
        source.Kernels.Affine(1, source, 0, null, 0, null, destination);

    /// <summary>The temporaries of one run, created like the state and disposed together.</summary>
    private sealed class Workspace : IDisposable
    {
        public Workspace(LogitBatch state, OdeSolver solver)
        {
            K1 = state.CreateLike();
            if (solver is OdeSolver.Midpoint or OdeSolver.Heun or OdeSolver.RungeKutta4)
            {
                K2 = state.CreateLike();
                Temp = state.CreateLike();
            }

            if (solver == OdeSolver.RungeKutta4)
            {
                K3 = state.CreateLike();
                K4 = state.CreateLike();
            }

            if (solver == OdeSolver.FixedNoise)
            {
                Initial = state.CreateLike();
            }
        }

        public LogitBatch K1 { get; }

        public LogitBatch? K2 { get; }

        public LogitBatch? K3 { get; }

        public LogitBatch? K4 { get; }

        public LogitBatch? Temp { get; }

        public LogitBatch? Initial { get; }

        public void Dispose()
        {
            K1.Dispose();
            K2?.Dispose();
            K3?.Dispose();
            K4?.Dispose();
            Temp?.Dispose();
            Initial?.Dispose();
        }
    }
}

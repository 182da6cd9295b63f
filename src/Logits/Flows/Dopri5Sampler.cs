
namespace Logits.Flows;

/// <summary>
/// The adaptive Dormand–Prince 5(4) "full simulation" solver (Dormand and Prince 1980; docs/algorithms/flows.md#ode-solvers): the reference
/// column of the Rectified Flow paper and the official reflow-pair generator use RK45 at rtol = atol = 1e-5 from ε to 1.
/// </summary>
/// <remarks>
/// <para>Stages, 5th-order weights b and embedded 4th-order weights b* are the standard tableau (FSAL: the 7th stage of an
/// accepted step is the 1st of the next). Error norm <c>err = RMS_i[(y5_i − y4_i)/(atol + rtol·max(|y_i|, |y5_i|))]</c> over
/// every element of the batch (a batch-level step controller), accumulated in float64 on the host; a step is accepted
/// when err ≤ 1; next step <c>h ← h·min(5, max(0.2, 0.9·err^(−1/5)))</c>; initial step 0.01 × the interval. NFE = 1 + 6 per
/// attempted step; only the accuracy, not the NFE, is specified. The state stays float32 (the batch); stage sums use the
/// Affine kernel like <see cref="FlowSampler"/>.</para>
/// </remarks>
public sealed class Dopri5Sampler
{
    private static readonly double[] C = { 0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1 };

    private static readonly double[][] A =
    {
        Array.Empty<double>(),
        new[] { 1.0 / 5 },
        new[] { 3.0 / 40, 9.0 / 40 },
        new[] { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
        new[] { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
        new[] { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
        new[] { 35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
    };

    // b − b*: the 5th-order weights minus the embedded 4th-order ones (b_7 = 0, b*_7 = 1/40).
    private static readonly double[] ErrorWeights =
    {
        (35.0 / 384) - (5179.0 / 57600), 0, (500.0 / 1113) - (7571.0 / 16695), (125.0 / 192) - (393.0 / 640),
        (-2187.0 / 6784) + (92097.0 / 339200), (11.0 / 84) - (187.0 / 2100), -1.0 / 40,
    };

    /// <summary>Creates the solver.</summary>
    /// <param name="relativeTolerance">rtol, finite and &gt; 0 (default 1e-5).</param>
    /// <param name="absoluteTolerance">atol, finite and ≥ 0 (default 1e-5).</param>
    /// <param name="maxSteps">The budget of attempted steps, ≥ 1 (default 10 000).</param>
    /// <param name="start">The first integration time (default 0; the official code starts at ε = 1e-3).</param>
    /// <param name="end">The last integration time, greater than <paramref name="start"/> (default 1).</param>
    /// <param name="timeScale">Multiplies every time passed to the field; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or NaN.</exception>
    public Dopri5Sampler(double relativeTolerance = 1e-5, double absoluteTolerance = 1e-5, int maxSteps = 10_000, double start = 0, double end = 1, double timeScale = 1)
    {
        RelativeTolerance = Require.FinitePositive(relativeTolerance, nameof(relativeTolerance));
        AbsoluteTolerance = Require.FiniteNonNegative(absoluteTolerance, nameof(absoluteTolerance));
        MaxSteps = Require.AtLeast(maxSteps, 1, nameof(maxSteps));
        FlowChecks.Time(start, nameof(start));
        FlowChecks.Time(end, nameof(end));
        if (!(end > start))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(end), end, $"must be greater than start = {start}");
        }

        Start = start;
        End = end;
        TimeScale = Require.FinitePositive(timeScale, nameof(timeScale));
    }

    /// <summary>rtol.</summary>
    public double RelativeTolerance { get; }

    /// <summary>atol.</summary>
    public double AbsoluteTolerance { get; }

    /// <summary>The budget of attempted steps.</summary>
    public int MaxSteps { get; }

    /// <summary>The first integration time.</summary>
    public double Start { get; }

    /// <summary>The last integration time.</summary>
    public double End { get; }

    /// <summary>The factor applied to every time passed to the field.</summary>
    public double TimeScale { get; }

    /// <summary>Integrates <paramref name="state"/> in place from <see cref="Start"/> to <see cref="End"/> (or back).</summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="state">The start points on entry, the end points on return.</param>
    /// <param name="direction">Forward or backward.</param>
    /// <param name="trajectory">When not null, receives the start and every accepted step.</param>
    /// <returns>The NFE used and the number of accepted steps.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="field"/> or <paramref name="state"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The step budget was exhausted or the step size fell below 1e-12.</exception>
    public FlowSampleResult Sample(IVelocityField field, LogitBatch state, FlowDirection direction = FlowDirection.Forward, FlowTrajectory? trajectory = null)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(state);
        bool forward = direction == FlowDirection.Forward;
        double t = forward ? Start : End;
        double target = forward ? End : Start;
        double sign = forward ? 1 : -1;
        double h = 0.01 * (End - Start);
        using var work = new Workspace(state);
        trajectory?.Record(t, state);
        field.Evaluate(state, TimeScale * t, work.K[0]);
        int evaluations = 1;
        int accepted = 0;
        for (int attempt = 0; ; attempt++)
        {
            double remaining = Math.Abs(target - t);
            if (remaining <= 1e-15)
            {
                break;
            }

            if (attempt >= MaxSteps)
            {
                throw new InvalidOperationException($"Dopri5 exhausted its budget of {MaxSteps} steps at t = {t}.");
            }

            if (h < 1e-12)
            {
                throw new InvalidOperationException($"Dopri5 step size underflowed (h = {h}) at t = {t}.");
            }

            bool last = h >= remaining;
            double step = sign * (last ? remaining : h);
            double error = TryStep(field, state, t, step, work);
            evaluations += 6;
            double factor = error == 0 ? 5 : Math.Min(5, Math.Max(0.2, 0.9 * Math.Pow(error, -0.2)));
            if (error <= 1)
            {
                FlowSampler.CopyInto(work.Y5, state);
                (work.K[0], work.K[6]) = (work.K[6], work.K[0]);
                t = last ? target : t + step;
                accepted++;
                trajectory?.Record(t, state);
            }

            h = Math.Abs(step) * factor;
        }

        return new FlowSampleResult(evaluations, accepted);
    }

    /// <summary>
    /// One Dormand–Prince step of size <paramref name="h"/> from <paramref name="y"/> (k1 = v(y, t) already in
    /// <c>work.K[0]</c>): fills <c>work.Y5</c>, <c>work.K[6]</c> = v(y5, t + h) and <c>work.Error</c> = y5 − y4;
    /// returns the scaled RMS error. Does not modify <paramref name="y"/>.
    /// </summary>
    internal double TryStep(IVelocityField field, LogitBatch y, double t, double h, Workspace work)
    {
        var k = y.Kernels;
        for (int stage = 1; stage < 7; stage++)
        {
            var destination = stage == 6 ? work.Y5 : work.Temp;
            Combine(k, y, A[stage], h, work.K, destination);
            field.Evaluate(destination, TimeScale * (t + (C[stage] * h)), work.K[stage]);
        }

        Combine(k, null, ErrorWeights, h, work.K, work.Error);
        float[] y0 = y.ToArray();
        float[] y5 = work.Y5.ToArray();
        float[] e = work.Error.ToArray();
        double sum = 0;
        for (int i = 0; i < y0.Length; i++)
        {
            double scale = AbsoluteTolerance + (RelativeTolerance * Math.Max(Math.Abs((double)y0[i]), Math.Abs((double)y5[i])));
            double r = e[i] / scale;
            sum += r * r;
        }

        return Math.Sqrt(sum / y0.Length);
    }

    /// <summary>destination = (baseline or 0) + h·Σ_j weights[j]·K[j], three terms per Affine call.</summary>
    private static void Combine(ILogitKernels kernels, LogitBatch? baseline, double[] weights, double h, LogitBatch[] ks, LogitBatch destination)
    {
        int j = 0;
        if (baseline is not null)
        {
            kernels.Affine(1, baseline, Coefficient(weights, 0, h), ks[0], Coefficient(weights, 1, h), ks[Math.Min(1, ks.Length - 1)], destination);
            j = 2;
        }
        else
        {
            kernels.Affine(Coefficient(weights, 0, h), ks[0], Coefficient(weights, 1, h), ks[1], Coefficient(weights, 2, h), ks[2], destination);
            j = 3;
        }

        for (; j < weights.Length; j += 2)
        {
            kernels.Affine(1, destination, Coefficient(weights, j, h), ks[j], Coefficient(weights, j + 1, h), ks[Math.Min(j + 1, ks.Length - 1)], destination);
        }
    }

    private static float Coefficient(double[] weights, int index, double h) => index < weights.Length ? (float)(h * weights[index]) : 0;

    /// <summary>The seven stage derivatives, a stage temporary, the 5th-order result and the error estimate.</summary>
    internal sealed class Workspace : IDisposable
    {
        public Workspace(LogitBatch state)
        {
            K = new LogitBatch[7];
            for (int i = 0; i < K.Length; i++)
            {
                K[i] = state.CreateLike();
            }

            Temp = state.CreateLike();
            Y5 = state.CreateLike();
            Error = state.CreateLike();
        }

        public LogitBatch[] K { get; }

        public LogitBatch Temp { get; }

        public LogitBatch Y5 { get; }

        public LogitBatch Error { get; }

        public void Dispose()
        {
            foreach (var k in K)
            {
                k.Dispose();
            }

            Temp.Dispose();
            Y5.Dispose();
            Error.Dispose();
        }
    }
}

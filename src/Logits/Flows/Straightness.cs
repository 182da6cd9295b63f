
namespace Logits.Flows;

/// <summary>How <see cref="Straightness"/> normalises the squared deviation of one sample.</summary>
public enum StraightnessNorm
{
    /// <summary>Sum over the d coordinates (the paper's Eq. 3; default).</summary>
    PerSample,

    /// <summary>Divided by d (rfpp's training-log convention).</summary>
    PerElement,
}

/// <summary>Straightness and transport-cost diagnostics of simulated flows (docs/algorithms/flows.md#straightness).</summary>
/// <remarks>
/// <para>Straightness (Rectified Flow, Liu, Gong, Liu 2022, Eq. 3): <c>S(Z) = ∫_0^1 E‖(Z1 − Z0) − Ż_t‖² dt</c>;
/// it is 0 exactly when every path is a straight line traversed at constant speed, and then one Euler step is exact.</para>
/// <para>Discrete estimator on a trajectory <c>z_0 … z_N</c> at times <c>τ_i</c>, <c>h_i = τ_{i+1} − τ_i</c>:
/// <c>Ŝ = (1/(τ_N − τ_0))·Σ_i h_i·‖(z_N − z_0)/(τ_N − τ_0) − (z_{i+1} − z_i)/h_i‖²</c>. It uses chord slopes, so
/// it works for any solver and any grid (including a backward run, whose times decrease). All sums are float64.</para>
/// </remarks>
public static class Straightness
{
    /// <summary>The mean straightness estimate over the samples of a trajectory.</summary>
    /// <param name="trajectory">At least two recorded points.</param>
    /// <param name="norm">Per sample (default) or per element.</param>
    /// <returns>The mean of <see cref="EstimatePerSample"/> over the rows.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="trajectory"/> is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two points.</exception>
    public static double Estimate(FlowTrajectory trajectory, StraightnessNorm norm = StraightnessNorm.PerSample)
    {
        ArgumentNullException.ThrowIfNull(trajectory);
        var perSample = new double[Math.Max(trajectory.Rows, 1)];
        EstimatePerSample(trajectory, perSample, norm);
        double sum = 0;
        foreach (double value in perSample)
        {
            sum += value;
        }

        return sum / perSample.Length;
    }

    /// <summary>The straightness estimate of every sample (row) of a trajectory.</summary>
    /// <param name="trajectory">At least two recorded points.</param>
    /// <param name="destination">One value per row.</param>
    /// <param name="norm">Per sample (default) or per element.</param>
    /// <exception cref="ArgumentNullException"><paramref name="trajectory"/> is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two points, or <paramref name="destination"/> is not one per row.</exception>
    public static void EstimatePerSample(FlowTrajectory trajectory, Span<double> destination, StraightnessNorm norm = StraightnessNorm.PerSample)
    {
        ArgumentNullException.ThrowIfNull(trajectory);
        if (trajectory.Count < 2)
        {
            ThrowHelper.ThrowArgument(nameof(trajectory), $"must hold at least 2 points; got {trajectory.Count}.");
        }

        int rows = trajectory.Rows;
        int d = trajectory.Dimension;
        if (destination.Length != rows)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} elements but the trajectory has {rows} rows.");
        }

        var states = trajectory.States;
        var times = trajectory.Times;
        int n = trajectory.Count - 1;
        double span = times[n] - times[0];
        float[] first = states[0];
        float[] lastState = states[n];
        for (int r = 0; r < rows; r++)
        {
            int offset = r * d;
            double total = 0;
            for (int i = 0; i < n; i++)
            {
                double h = times[i + 1] - times[i];
                float[] a = states[i];
                float[] b = states[i + 1];
                double squared = 0;
                for (int j = offset; j < offset + d; j++)
                {
                    double chord = ((double)lastState[j] - first[j]) / span;
                    double slope = ((double)b[j] - a[j]) / h;
                    double diff = chord - slope;
                    squared += diff * diff;
                }

                total += h * squared;
            }

            double value = total / span;
            destination[r] = norm == StraightnessNorm.PerElement ? value / d : value;
        }
    }

    /// <summary>The transport cost <c>E‖Z1 − Z0‖²</c> of a coupling, averaged over the rows, in float64.</summary>
    /// <param name="z0">The start points.</param>
    /// <param name="z1">The end points; same shape.</param>
    /// <returns>The mean squared distance.</returns>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static double TransportCost(LogitBatch z0, LogitBatch z1)
    {
        ArgumentNullException.ThrowIfNull(z0);
        z0.EnsureSameShape(z1, nameof(z1));
        float[] a = z0.ToArray();
        float[] b = z1.ToArray();
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double diff = (double)b[i] - a[i];
            sum += diff * diff;
        }

        return sum / z0.Rows;
    }
}

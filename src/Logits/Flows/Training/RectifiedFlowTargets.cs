
namespace Logits.Flows.Training;

/// <summary>Rectified Flow's interpolation and regression target (docs/algorithms/flows.md#interpolation-and-target).</summary>
/// <remarks>
/// For a pair (x0, x1) and a time t (library time: t = 0 noise, t = 1 data): interpolant
/// <c>x_t = t·x1 + (1 − t)·x0</c>; target velocity <c>u = x1 − x0</c>, independent of t (Liu, Gong, Liu 2022).
/// </remarks>
public static class RectifiedFlowTargets
{
    /// <summary>Writes <c>x_t = t·x1 + (1 − t)·x0</c> for one time shared by all rows.</summary>
    /// <param name="x0">The source points (noise), <c>[samples, d]</c>.</param>
    /// <param name="x1">The target points (data), same shape.</param>
    /// <param name="t">The time in <c>[0, 1]</c>.</param>
    /// <param name="destination">Receives the interpolants (may alias an input).</param>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1] or NaN.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static void Interpolate(LogitBatch x0, LogitBatch x1, double t, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(x0);
        x0.EnsureSameShape(x1, nameof(x1));
        x0.EnsureSameShape(destination, nameof(destination));
        FlowChecks.Time(t, nameof(t));
        x0.Kernels.Affine((float)t, x1, (float)(1 - t), x0, 0, null, destination);
    }

    /// <summary>Writes <c>x_t = x0 + t_r·(x1 − x0)</c> with one time per row.</summary>
    /// <param name="x0">The source points, <c>[samples, d]</c>.</param>
    /// <param name="x1">The target points, same shape.</param>
    /// <param name="t">One time in <c>[0, 1]</c> per row.</param>
    /// <param name="destination">Receives the interpolants (may alias an input).</param>
    /// <remarks>
    /// The kernel set has per-row scaling only by positive factors, so this computes
    /// <c>x0 + (1 + t_r)·u − u</c> with <c>u = x1 − x0</c> (factors in [1, 2]); in float32 that is within a few ulp of
    /// <c>|u|</c> of the direct form. Temporaries are created like the inputs and disposed.
    /// </remarks>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is outside [0, 1] or NaN.</exception>
    /// <exception cref="ArgumentException">The shapes differ, or <paramref name="t"/> is not one per row.</exception>
    public static void Interpolate(LogitBatch x0, LogitBatch x1, ReadOnlySpan<float> t, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(x0);
        x0.EnsureSameShape(x1, nameof(x1));
        x0.EnsureSameShape(destination, nameof(destination));
        FlowChecks.PerRow(t.Length, x0.Rows, nameof(t));
        float[] factors = ArrayPool<float>.Shared.Rent(x0.Rows);
        try
        {
            for (int r = 0; r < t.Length; r++)
            {
                FlowChecks.Time(t[r], nameof(t));
                factors[r] = 1 + t[r];
            }

            var k = x0.Kernels;
            using var u = x0.CreateLike();
            using var scaled = x0.CreateLike();
            k.Affine(1, x1, -1, x0, 0, null, u);
            k.Scale(u, factors.AsSpan(0, x0.Rows), scaled);
            k.Affine(1, x0, 1, scaled, -1, u, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(factors);
        }
    }

    /// <summary>Writes the target velocity <c>u = x1 − x0</c>.</summary>
    /// <param name="x0">The source points.</param>
    /// <param name="x1">The target points, same shape.</param>
    /// <param name="destination">Receives <c>x1 − x0</c> (may alias an input).</param>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static void VelocityTarget(LogitBatch x0, LogitBatch x1, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(x0);
        x0.EnsureSameShape(x1, nameof(x1));
        x0.EnsureSameShape(destination, nameof(destination));
        x0.Kernels.Affine(1, x1, -1, x0, 0, null, destination);
    }

    /// <summary>The extrapolated endpoint <c>x̂_1(t) = z_t + (1 − t)·v(z_t, t)</c>, constant in t on straight paths (docs/algorithms/flows.md#straightness).</summary>
    /// <param name="z">The states.</param>
    /// <param name="velocity">The velocities at <paramref name="z"/>, same shape.</param>
    /// <param name="t">The time in <c>[0, 1]</c>.</param>
    /// <param name="destination">Receives x̂_1 (may alias an input).</param>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside [0, 1] or NaN.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static void ExtrapolatedEndpoint(LogitBatch z, LogitBatch velocity, double t, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(z);
        z.EnsureSameShape(velocity, nameof(velocity));
        z.EnsureSameShape(destination, nameof(destination));
        FlowChecks.Time(t, nameof(t));
        z.Kernels.Affine(1, z, (float)(1 - t), velocity, 0, null, destination);
    }
}

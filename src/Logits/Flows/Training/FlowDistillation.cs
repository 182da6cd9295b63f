
namespace Logits.Flows.Training;

/// <summary>
/// Distillation of a fixed coupling into a few-step map (docs/algorithms/flows.md#distillation): it fits the coupling without changing it
/// (rectification, in contrast, changes the coupling).
/// </summary>
public static class FlowDistillation
{
    /// <summary>The one-step map <c>T̂(z0) = z0 + v(z0, t0)</c>, whose L2 (or user perceptual) distance to z1 is the loss.</summary>
    /// <param name="field">The student velocity.</param>
    /// <param name="start">z0.</param>
    /// <param name="destination">Receives T̂(z0) (distinct from <paramref name="start"/>).</param>
    /// <param name="t0">The evaluation time: the paper's 0 (default) or the official code's ε = 1e-3.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ or the batches are the same object.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t0"/> is outside [0, 1).</exception>
    public static void OneStepPrediction(IVelocityField field, LogitBatch start, LogitBatch destination, double t0 = 0)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(start);
        start.EnsureSameShape(destination, nameof(destination));
        if (ReferenceEquals(start, destination))
        {
            ThrowHelper.ThrowArgument(nameof(destination), "must not be the start batch.");
        }

        Require.FractionBelowOne(t0, nameof(t0));

        field.Evaluate(start, t0, destination);
        start.Kernels.Affine(1, start, 1, destination, 0, null, destination);
    }

    /// <summary>The k-step distillation times <c>ε + i(1 − ε)/k</c>, i = 0…k−1; the regression target at each is <c>z1 − z0</c>.</summary>
    /// <param name="k">The number of steps, in [1, 2³⁰].</param>
    /// <param name="epsilon">ε in [0, 1) (default 1e-3).</param>
    /// <returns>The k times.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double[] KStepTimes(int k, double epsilon = 1e-3)
    {
        if (k < 1 || k > 1 << 30)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(k), k, "must be in [1, 2^30]");
        }

        Require.FractionBelowOne(epsilon, nameof(epsilon));

        var times = new double[k];
        for (int i = 0; i < k; i++)
        {
            times[i] = epsilon + (i * (1 - epsilon) / k);
        }

        return times;
    }
}

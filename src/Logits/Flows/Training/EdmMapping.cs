namespace Logits.Flows.Training;

/// <summary>
/// The time mapping used to initialise a rectified flow from a pretrained EDM denoiser (rfpp; docs/algorithms/flows.md#edm-initialisation):
/// with <c>X_t = t·x + (1 − t)·z</c>, <c>σ_EDM = (1 − t)/t</c> and the denoiser input is <c>X_t / t</c>.
/// </summary>
/// <remarks>
/// The velocity is then <c>v = (D − X_t)/(1 − t)</c> with D the EDM-preconditioned denoiser output (user code). Both maps
/// divide by t or 1 − t, so t must lie in <c>[δ, 1 − δ]</c> with δ &gt; 0 the time sampler's truncation; times
/// outside throw rather than being clamped. Examples: t = 0.5 gives σ = 1 and input scale 2; t = 0.2 gives σ = 4.
/// </remarks>
public static class EdmMapping
{
    /// <summary><c>σ_EDM = (1 − t)/t</c>.</summary>
    /// <param name="t">The library time in <c>[δ, 1 − δ]</c>.</param>
    /// <param name="delta">δ in (0, 0.5) (default 1e-5).</param>
    /// <returns>σ_EDM.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double Sigma(double t, double delta = 1e-5)
    {
        Validate(t, delta);
        return (1 - t) / t;
    }

    /// <summary>The factor <c>1/t</c> that maps <c>X_t</c> to the denoiser input.</summary>
    /// <param name="t">The library time in <c>[δ, 1 − δ]</c>.</param>
    /// <param name="delta">δ in (0, 0.5) (default 1e-5).</param>
    /// <returns><c>1/t</c>.</returns>
    /// <exception cref="System.ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static double InputScale(double t, double delta = 1e-5)
    {
        Validate(t, delta);
        return 1 / t;
    }

    private static void Validate(double t, double delta)
    {
        if (!(delta > 0 && delta < 0.5))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(delta), delta, "must be in (0, 0.5)");
        }

        if (!(t >= delta && t <= 1 - delta))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(t), t, $"must be in [{delta}, {1 - delta}]");
        }
    }
}

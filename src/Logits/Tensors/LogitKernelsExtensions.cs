
namespace Logits.Tensors;

/// <summary>Convenience forms of the <see cref="ILogitKernels"/> operations.</summary>
public static class LogitKernelsExtensions
{
    /// <summary>Multiplies every entry of every row by one <paramref name="factor"/>.</summary>
    /// <param name="kernels">The kernels of the batch's backend.</param>
    /// <param name="x">The logits.</param>
    /// <param name="factor">A finite factor greater than 0.</param>
    /// <param name="destination">Receives <c>factor * x</c> (may be <paramref name="x"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite and positive.</exception>
    /// <exception cref="InvalidLogitsException">An input is NaN/<c>+∞</c> or a product overflows (stage <c>"scale"</c>).</exception>
    public static void Scale(this ILogitKernels kernels, LogitBatch x, float factor, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(x);
        if (!(factor > 0) || !float.IsFinite(factor))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(factor), factor, "must be finite and greater than 0");
        }

        const int StackLimit = 256;
        Span<float> factors = x.Rows <= StackLimit ? stackalloc float[x.Rows] : new float[x.Rows];
        factors.Fill(factor);
        kernels.Scale(x, factors, destination);
    }
}

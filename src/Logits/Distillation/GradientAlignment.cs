
namespace Logits.Distillation;

/// <summary>
/// Dual-Head KD's optional PCGrad-style gradient alignment on flattened gradients (docs/algorithms/paper-methods.md#gradient-alignment), as the
/// official code (<c>penghui-yang/DHKD</c>, arXiv 2411.08937) does it.
/// </summary>
/// <remarks>
/// <para>With <c>g₁ = ∇(γ·CE)</c> and <c>g₂ = ∇(α·L_aux)</c> flattened over all trainable parameters in optimizer order
/// (unreached parameters count as 0): when <c>g₂·g₁ &lt; 0</c> and <c>‖g₁‖ &gt; 0</c>,
/// <c>g₂ ← g₂ − (g₂·g₁/‖g₁‖²)·g₁</c>; the merged gradient is <c>g₁ + g₂</c>. Only the auxiliary gradient is projected
/// (one-sided, unlike symmetric PCGrad); <c>g₁</c> projected against itself never changes.</para>
/// <para>Reference behaviour, kept on purpose: the projection adds a multiple of <c>g₁</c> everywhere <c>g₁</c> is
/// non-zero, including the main head, whose merged gradient becomes <c>(1 + |c|)·g₁</c>, <c>c = g₂·g₁/‖g₁‖²</c>.
/// Dot products are accumulated in float64.</para>
/// </remarks>
public static class GradientAlignment
{
    /// <summary>Merges the two flattened gradients with the one-sided projection.</summary>
    /// <param name="crossEntropyGradient"><c>g₁</c>, the gradient of the weighted cross-entropy.</param>
    /// <param name="auxiliaryGradient"><c>g₂</c>, the gradient of the weighted auxiliary loss, same length.</param>
    /// <param name="destination">Receives <c>g₁ + g₂'</c>; may alias either input.</param>
    /// <returns>Whether <c>g₂</c> was projected (the gradients conflicted).</returns>
    /// <exception cref="ArgumentException">The lengths differ or the destination is too short.</exception>
    public static bool Merge(ReadOnlySpan<double> crossEntropyGradient, ReadOnlySpan<double> auxiliaryGradient, Span<double> destination)
    {
        Require.Length(auxiliaryGradient.Length, crossEntropyGradient.Length, nameof(auxiliaryGradient));
        Require.LengthAtLeast(destination.Length, crossEntropyGradient.Length, nameof(destination));

        double dot = 0, norm2 = 0;
        for (int i = 0; i < crossEntropyGradient.Length; i++)
        {
            dot += auxiliaryGradient[i] * crossEntropyGradient[i];
            norm2 += crossEntropyGradient[i] * crossEntropyGradient[i];
        }

        // Skip the projection when ||g1|| = 0: there is no direction to project against.
        bool project = dot < 0 && norm2 > 0;
        double c = project ? dot / norm2 : 0;
        for (int i = 0; i < crossEntropyGradient.Length; i++)
        {
            double g1 = crossEntropyGradient[i];
            destination[i] = g1 + (auxiliaryGradient[i] - (c * g1));
        }

        return project;
    }
}

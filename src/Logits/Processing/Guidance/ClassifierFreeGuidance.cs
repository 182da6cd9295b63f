
namespace Logits.Processing.Guidance;

/// <summary>The pure classifier-free guidance combination of one row, as a plain host function.</summary>
/// <remarks>
/// The same rule as <see cref="ClassifierFreeGuidanceProcessor"/> (docs/algorithms/guidance.md#classifier-free-guidance), for callers that hold
/// both rows on the host: <c>c = logsoftmax(z)</c>, <c>u = logsoftmax(z_uncond)</c>, output
/// <c>u + scale·(c − u)</c>; <c>c_i = -∞</c> gives <c>-∞</c>; <c>u_i = -∞</c> with <c>c_i</c> finite gives
/// <c>c_i</c>. Log-softmaxes and the combination are evaluated in float64 and rounded once.
/// </remarks>
public static class ClassifierFreeGuidance
{
    /// <summary>Combines one conditional and one unconditional row.</summary>
    /// <param name="conditional">The conditional logits <c>z</c>; finite or <c>-∞</c>.</param>
    /// <param name="unconditional">The unconditional logits, the same length; finite or <c>-∞</c>.</param>
    /// <param name="scale">The guidance scale, finite; 1 returns <c>c</c>.</param>
    /// <param name="destination">Receives the guided log-probabilities; the same length (may alias <paramref name="conditional"/>).</param>
    /// <remarks>An all-<c>-∞</c> conditional row is copied unchanged; an all-<c>-∞</c> unconditional row gives <c>c</c>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is not finite.</exception>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="InvalidLogitsException">A conditional value is NaN/<c>+∞</c> (stage <c>"input"</c>) or an
    /// unconditional one is (stage <c>"cfg-unconditional"</c>).</exception>
    public static void Combine(ReadOnlySpan<float> conditional, ReadOnlySpan<float> unconditional, float scale, Span<float> destination)
    {
        if (!float.IsFinite(scale))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(scale), scale, "must be finite (1 = no guidance)");
        }

        if (unconditional.Length != conditional.Length)
        {
            ThrowHelper.ThrowArgument(nameof(unconditional), $"has {unconditional.Length} values but conditional has {conditional.Length}.");
        }

        if (destination.Length != conditional.Length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination.Length} values but conditional has {conditional.Length}.");
        }

        double conditionalLse = CheckedLogSumExp(conditional, "input");
        double unconditionalLse = CheckedLogSumExp(unconditional, ClassifierFreeGuidanceProcessor.UnconditionalStage);
        if (double.IsNegativeInfinity(conditionalLse))
        {
            conditional.CopyTo(destination);
            return;
        }

        for (int i = 0; i < conditional.Length; i++)
        {
            if (float.IsNegativeInfinity(conditional[i]))
            {
                destination[i] = float.NegativeInfinity;
                continue;
            }

            double c = conditional[i] - conditionalLse;
            if (scale == 1f || float.IsNegativeInfinity(unconditional[i]))
            {
                destination[i] = (float)c;
                continue;
            }

            double u = unconditional[i] - unconditionalLse;
            destination[i] = (float)(u + (scale * (c - u)));
        }
    }

    /// <summary>Log-sum-exp in float64 (<c>-∞</c> for an all-<c>-∞</c> row); NaN/+∞ throw with <paramref name="stage"/>.</summary>
    private static double CheckedLogSumExp(ReadOnlySpan<float> row, string stage)
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            if (float.IsNaN(row[i]) || float.IsPositiveInfinity(row[i]))
            {
                ThrowHelper.ThrowInvalidLogits(0, i, row[i], stage);
            }

            max = Math.Max(max, row[i]);
        }

        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = 0;
        foreach (float z in row)
        {
            sum += Math.Exp(z - max);
        }

        return max + Math.Log(sum);
    }
}

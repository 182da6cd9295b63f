using System;

namespace Logits.TorchSharp.Optimization;

/// <summary>Learning-rate schedules: the rate for a given step, which a training loop sets before that step.</summary>
public static class LearningRateSchedule
{
    /// <summary>A linear warm-up to <paramref name="peak"/>, then a cosine decay to <paramref name="minimum"/> at the last step.</summary>
    /// <param name="step">The step about to run, from 1 to <paramref name="steps"/>.</param>
    /// <param name="steps">All steps of the run, at least 1.</param>
    /// <param name="warmupSteps">Warm-up steps, from 0 to <paramref name="steps"/>.</param>
    /// <param name="peak">The rate at the end of the warm-up, finite and greater than 0.</param>
    /// <param name="minimum">The rate at the last step, in <c>(0, peak]</c>.</param>
    /// <returns>The learning rate of <paramref name="step"/>.</returns>
    /// <remarks>
    /// <para>
    /// With <c>W</c> warm-up steps out of <c>S</c>: <c>η(s) = peak·s/W</c> for <c>s ≤ W</c>, else
    /// <c>η(s) = min + (peak − min)·(1 + cos(π·p))/2</c> with <c>p = (s − W)/(S − W)</c>, so the last step runs at
    /// <c>min</c>. The warm-up keeps Adam's first updates small while its second-moment estimates are still noisy;
    /// the cosine decay lets the weights settle (Loshchilov and Hutter, SGDR, arXiv 1608.03983, without restarts).
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public static double WarmupCosine(int step, int steps, int warmupSteps, double peak, double minimum)
    {
        if (steps < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, "must be at least 1");
        }

        if (step < 1 || step > steps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(step), step, $"must be in [1, {steps}]");
        }

        if (warmupSteps < 0 || warmupSteps > steps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(warmupSteps), warmupSteps, $"must be in [0, {steps}]");
        }

        if (!(peak > 0) || double.IsInfinity(peak))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(peak), peak, "must be finite and greater than 0");
        }

        if (!(minimum > 0 && minimum <= peak))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minimum), minimum, $"must be in (0, {peak}]");
        }

        if (step <= warmupSteps)
        {
            return peak * step / warmupSteps;
        }

        // With no decay steps left (W = S) the warm-up's last step is also the last step.
        double progress = steps == warmupSteps ? 1 : (double)(step - warmupSteps) / (steps - warmupSteps);
        return minimum + ((peak - minimum) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}

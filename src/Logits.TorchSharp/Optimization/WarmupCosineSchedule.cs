
namespace Logits.TorchSharp.Optimization;

/// <summary>
/// A learning-rate multiplier with linear warm-up and cosine decay: it rises linearly to 1 over the warm-up steps, then
/// follows half a cosine down to <see cref="MinimumFactor"/> at <see cref="TotalSteps"/> and stays there.
/// </summary>
/// <remarks>
/// <para>Loshchilov and Hutter, <i>SGDR: Stochastic Gradient Descent with Warm Restarts</i>, arXiv 1608.03983 (cosine
/// annealing, one cycle); linear warm-up as in Goyal et al., arXiv 1706.02677. For the update number <c>t ≥ 1</c> (the
/// first optimizer step is <c>t = 1</c>), with <c>W</c> = <see cref="WarmupSteps"/>, <c>T</c> = <see cref="TotalSteps"/>
/// and <c>m</c> = <see cref="MinimumFactor"/>:</para>
/// <code>
/// factor(t) = t / W                                           for t ≤ W
///           = m + (1 − m) · ½ · (1 + cos(π · (t − W) / (T − W)))  for W &lt; t ≤ T
///           = m                                               for t &gt; T
/// </code>
/// <para>So the first update already moves (<c>1/W</c>, not 0), the peak 1 is reached at <c>t = W</c>, and the last
/// scheduled update <c>t = T</c> uses <c>m</c>. With <c>W = 0</c> the decay starts at <c>t = 1</c>.</para>
/// </remarks>
public sealed class WarmupCosineSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="warmupSteps">W, the linear warm-up length, in <c>[0, totalSteps)</c>.</param>
    /// <param name="totalSteps">T, the step at which the decay ends, at least 1.</param>
    /// <param name="minimumFactor">m, the final factor, in <c>[0, 1]</c> (default 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of its range.</exception>
    public WarmupCosineSchedule(int warmupSteps, int totalSteps, double minimumFactor = 0)
    {
        TotalSteps = Require.AtLeast(totalSteps, 1, nameof(totalSteps));

        if (warmupSteps < 0 || warmupSteps >= totalSteps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(warmupSteps), warmupSteps, $"must be in [0, {totalSteps})");
        }

        if (!(minimumFactor >= 0 && minimumFactor <= 1))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(minimumFactor), minimumFactor, "must be in [0, 1]");
        }

        WarmupSteps = warmupSteps;
        MinimumFactor = minimumFactor;
    }

    /// <summary>W, the linear warm-up length.</summary>
    public int WarmupSteps { get; }

    /// <summary>T, the step at which the cosine decay ends.</summary>
    public int TotalSteps { get; }

    /// <summary>m, the factor at and after <see cref="TotalSteps"/>.</summary>
    public double MinimumFactor { get; }

    /// <summary>The multiplier of the base learning rate for update number <paramref name="step"/> (see the remarks).</summary>
    /// <param name="step">t, at least 1.</param>
    /// <returns>The factor in <c>[MinimumFactor, 1]</c> (in <c>(0, 1]</c> during warm-up).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is below 1.</exception>
    public double Factor(int step)
    {
        Require.AtLeast(step, 1, nameof(step));

        if (step <= WarmupSteps)
        {
            return (double)step / WarmupSteps;
        }

        if (step >= TotalSteps)
        {
            return MinimumFactor;
        }

        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinimumFactor + ((1 - MinimumFactor) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}

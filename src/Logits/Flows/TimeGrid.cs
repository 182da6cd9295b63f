
namespace Logits.Flows;

/// <summary>
/// A time grid for the fixed-step solvers: integration times <c>0 ≤ τ_0 &lt; … &lt; τ_N ≤ 1</c> plus the map
/// <c>g(τ)</c> that gives the time passed to the velocity field (docs/algorithms/flows.md#time-grids).
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Grid</term><description>τ_i, step, time given to v</description></listheader>
/// <item><term><see cref="Uniform"/></term><description><c>i/N</c>, <c>1/N</c>, <c>g(τ) = τ</c> (paper §5).</description></item>
/// <item><term><see cref="EpsilonOffset"/></term><description><c>i/N</c>, <c>1/N</c>, <c>g(τ) = ε + (1 − ε)τ</c> (the official
/// Rectified Flow Euler sampler; for multi-stage solvers the same map is applied to every stage time — a library
/// decision).</description></item>
/// <item><term><see cref="Custom"/></term><description>given, <c>τ_{i+1} − τ_i</c>, <c>g(τ) = τ</c> (e.g. rfpp's
/// <c>[1e-5, 1/N, …, 1]</c>).</description></item>
/// </list>
/// <para>Uniform times are computed as <c>i / N</c> in float64, so <c>τ_N = 1</c> exactly.</para>
/// </remarks>
public sealed class TimeGrid
{
    private const int MaxSteps = 1 << 30;
    private readonly double[]? _times;

    private TimeGrid(int steps, double epsilon, double[]? times)
    {
        Steps = steps;
        Epsilon = epsilon;
        _times = times;
    }

    /// <summary>The number of steps <c>N</c>; the grid has <c>N + 1</c> times.</summary>
    public int Steps { get; }

    /// <summary>The offset ε of the evaluation-time map (0 for <see cref="Uniform"/> and <see cref="Custom"/>).</summary>
    public double Epsilon { get; }

    /// <summary>The first integration time τ_0.</summary>
    public double Start => Time(0);

    /// <summary>The last integration time τ_N.</summary>
    public double End => Time(Steps);

    /// <summary>The grid <c>τ_i = i/N</c> with <c>g(τ) = τ</c>.</summary>
    /// <param name="steps">N, in <c>[1, 2³⁰]</c>.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is out of range.</exception>
    public static TimeGrid Uniform(int steps)
    {
        ValidateSteps(steps);
        return new TimeGrid(steps, 0, null);
    }

    /// <summary>The grid <c>τ_i = i/N</c> whose velocity times are <c>g(τ) = ε + (1 − ε)τ</c>.</summary>
    /// <param name="steps">N, in <c>[1, 2³⁰]</c>.</param>
    /// <param name="epsilon">ε in <c>[0, 1)</c>; default 1e-3, the official code's value.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or NaN.</exception>
    public static TimeGrid EpsilonOffset(int steps, double epsilon = 1e-3)
    {
        ValidateSteps(steps);
        Require.FractionBelowOne(epsilon, nameof(epsilon));

        return new TimeGrid(steps, epsilon, null);
    }

    /// <summary>A grid with the given integration times and <c>g(τ) = τ</c>.</summary>
    /// <param name="times">At least two finite, strictly increasing times inside <c>[0, 1]</c>; copied.</param>
    /// <returns>The grid.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="times"/> is null.</exception>
    /// <exception cref="ArgumentException">The times are too few, not finite, outside [0, 1] or not strictly increasing.</exception>
    public static TimeGrid Custom(params double[] times)
    {
        ArgumentNullException.ThrowIfNull(times);
        if (times.Length < 2)
        {
            ThrowHelper.ThrowArgument(nameof(times), $"must hold at least 2 times; got {times.Length}.");
        }

        for (int i = 0; i < times.Length; i++)
        {
            if (!(times[i] >= 0 && times[i] <= 1))
            {
                ThrowHelper.ThrowArgument(nameof(times), $"must lie inside [0, 1]; times[{i}] = {times[i]}.");
            }

            if (i > 0 && !(times[i] > times[i - 1]))
            {
                ThrowHelper.ThrowArgument(nameof(times), $"must be strictly increasing; times[{i}] = {times[i]} follows {times[i - 1]}.");
            }
        }

        return new TimeGrid(times.Length - 1, 0, (double[])times.Clone());
    }

    /// <summary>The integration time τ_i.</summary>
    /// <param name="index">i in <c>[0, N]</c>.</param>
    /// <returns>τ_i.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside <c>[0, N]</c>.</exception>
    public double Time(int index)
    {
        if ((uint)index > (uint)Steps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index), index, $"must be in [0, {Steps}]");
        }

        return _times is null ? (double)index / Steps : _times[index];
    }

    /// <summary>The time passed to the velocity field for integration time <paramref name="tau"/>: <c>g(τ) = ε + (1 − ε)τ</c>.</summary>
    /// <param name="tau">An integration time (a grid or stage time).</param>
    /// <returns><c>g(τ)</c>.</returns>
    public double EvaluationTime(double tau) => Epsilon == 0 ? tau : Epsilon + ((1 - Epsilon) * tau);

    private static void ValidateSteps(int steps)
    {
        if (steps < 1 || steps > MaxSteps)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(steps), steps, $"must be in [1, {MaxSteps}]");
        }
    }
}

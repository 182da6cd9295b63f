
namespace Logits.Flows;

/// <summary>
/// A recorded trajectory: the integration time and a row-major host copy of the state at the start and after
/// every step of a <see cref="FlowSampler"/> run.
/// </summary>
/// <remarks>Recording copies the whole state to the host each step; it is meant for diagnostics (straightness,
/// plots), not for large batches.</remarks>
public sealed class FlowTrajectory
{
    private readonly List<double> _times = new();
    private readonly List<float[]> _states = new();

    /// <summary>The number of samples (rows), or 0 before the first record.</summary>
    public int Rows { get; private set; }

    /// <summary>The dimension d of one sample, or 0 before the first record.</summary>
    public int Dimension { get; private set; }

    /// <summary>The number of recorded points (<c>N + 1</c> after an <c>N</c>-step run).</summary>
    public int Count => _times.Count;

    /// <summary>The integration times of the recorded points, in recording order.</summary>
    public IReadOnlyList<double> Times => _times;

    /// <summary>The recorded states, row-major <c>[Rows, Dimension]</c> each, in recording order.</summary>
    public IReadOnlyList<float[]> States => _states;

    /// <summary>Removes every recorded point.</summary>
    public void Clear()
    {
        _times.Clear();
        _states.Clear();
        Rows = 0;
        Dimension = 0;
    }

    /// <summary>Appends a copy of <paramref name="state"/> at integration time <paramref name="time"/>.</summary>
    /// <param name="time">The integration time.</param>
    /// <param name="state">The state; its shape must match earlier records.</param>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentException">The shape differs from earlier records.</exception>
    public void Record(double time, LogitBatch state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (Count == 0)
        {
            Rows = state.Rows;
            Dimension = state.Vocab;
        }
        else if (state.Rows != Rows || state.Vocab != Dimension)
        {
            ThrowHelper.ThrowArgument(nameof(state), $"has shape [{state.Rows}, {state.Vocab}] but the trajectory holds [{Rows}, {Dimension}].");
        }

        _times.Add(time);
        _states.Add(state.ToArray());
    }
}


namespace Logits.Flows;

/// <summary>Factories and wrappers for <see cref="IVelocityField"/>.</summary>
public static class VelocityField
{
    /// <summary>Wraps a function as a velocity field.</summary>
    /// <param name="function">The velocity function.</param>
    /// <returns>A field that calls <paramref name="function"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is null.</exception>
    public static IVelocityField FromDelegate(VelocityFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new DelegateField(function);
    }

    /// <summary>Wraps a field so that every evaluation is counted (see <see cref="CountingVelocityField.Evaluations"/>).</summary>
    /// <param name="field">The field to count.</param>
    /// <returns>The counting wrapper.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="field"/> is null.</exception>
    public static CountingVelocityField Counting(IVelocityField field) => new(field);

    private sealed class DelegateField(VelocityFunction function) : IVelocityField
    {
        public void Evaluate(LogitBatch x, double t, LogitBatch destination) => function(x, t, destination);
    }
}

/// <summary>A velocity field that counts its function evaluations (NFE), for example across a whole reflow run.</summary>
/// <remarks>One call of <see cref="Evaluate"/> on a batch is one evaluation, whatever the number of rows. The counter
/// is thread-safe.</remarks>
public sealed class CountingVelocityField : IVelocityField
{
    private readonly IVelocityField _inner;
    private long _evaluations;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The field to count.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
    public CountingVelocityField(IVelocityField inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <summary>The number of evaluations since construction or the last <see cref="Reset"/>.</summary>
    public long Evaluations => Interlocked.Read(ref _evaluations);

    /// <summary>Sets the counter to zero.</summary>
    public void Reset() => Interlocked.Exchange(ref _evaluations, 0);

    /// <inheritdoc />
    public void Evaluate(LogitBatch x, double t, LogitBatch destination)
    {
        Interlocked.Increment(ref _evaluations);
        _inner.Evaluate(x, t, destination);
    }
}

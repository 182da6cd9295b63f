
namespace Logits.Flows.Schedules;

/// <summary>An ε-prediction model <c>ε̂(x_t, t)</c> on a batch (one sample per row), in library time.</summary>
/// <remarks>Same calling contract as <see cref="IVelocityField"/>: do not modify <c>x</c>; write every element of
/// <c>destination</c>.</remarks>
public interface INoisePredictor
{
    /// <summary>Writes <c>ε̂(x, t)</c> into <paramref name="destination"/>.</summary>
    /// <param name="x">The noisy states.</param>
    /// <param name="t">The library time.</param>
    /// <param name="destination">Receives the predicted noise.</param>
    void Predict(LogitBatch x, double t, LogitBatch destination);
}

/// <summary>Factories for <see cref="INoisePredictor"/>.</summary>
public static class NoisePredictor
{
    /// <summary>Wraps a function as a noise predictor.</summary>
    /// <param name="function">The function <c>destination = ε̂(x, t)</c>.</param>
    /// <returns>The predictor.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> is null.</exception>
    public static INoisePredictor FromDelegate(VelocityFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new DelegatePredictor(function);
    }

    private sealed class DelegatePredictor(VelocityFunction function) : INoisePredictor
    {
        public void Predict(LogitBatch x, double t, LogitBatch destination) => function(x, t, destination);
    }
}

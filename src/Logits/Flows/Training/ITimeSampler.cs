using Logits.Randomness;

namespace Logits.Flows.Training;

/// <summary>A training timestep distribution on [0, 1] in library time (docs/algorithms/flows.md#u-shaped-timesteps).</summary>
public interface ITimeSampler
{
    /// <summary>Draws one time.</summary>
    /// <param name="random">The stream.</param>
    /// <returns>A time in [0, 1].</returns>
    double Sample(IRandomSource random);
}

/// <summary>Batch helpers for <see cref="ITimeSampler"/>.</summary>
public static class TimeSamplerExtensions
{
    /// <summary>Fills <paramref name="destination"/> with independent draws.</summary>
    /// <param name="sampler">The sampler.</param>
    /// <param name="random">The stream.</param>
    /// <param name="destination">Receives the times.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void Sample(this ITimeSampler sampler, IRandomSource random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)sampler.Sample(random);
        }
    }
}

/// <summary><c>t ~ U(ε, 1)</c> (the official Rectified Flow code uses ε = 1e-3; ε = 0 is the paper's U[0, 1]).</summary>
public sealed class UniformTimeSampler : ITimeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="epsilon">ε in [0, 1); default 1e-3.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epsilon"/> is out of range or NaN.</exception>
    public UniformTimeSampler(double epsilon = 1e-3)
    {
        Epsilon = Require.FractionBelowOne(epsilon, nameof(epsilon));

    }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public double Sample(IRandomSource random) => Epsilon + ((1 - Epsilon) * random.NextDouble());
}

/// <summary>A constant time (for tests and ablations).</summary>
public sealed class FixedTimeSampler : ITimeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="t">The time in [0, 1].</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is out of range or NaN.</exception>
    public FixedTimeSampler(double t)
    {
        FlowChecks.Time(t, nameof(t));
        Time = t;
    }

    /// <summary>The time.</summary>
    public double Time { get; }

    /// <inheritdoc />
    public double Sample(IRandomSource random) => Time;
}

/// <summary>The logit-normal density: <c>t = sigmoid(m + s·z)</c>, <c>z ~ N(0, 1)</c> (SD3's timestep sampler).</summary>
public sealed class LogitNormalTimeSampler : ITimeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="location">m, finite (default 0).</param>
    /// <param name="scale">s, finite and &gt; 0 (default 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public LogitNormalTimeSampler(double location = 0, double scale = 1)
    {
        Location = Require.Finite(location, nameof(location));

        Scale = Require.FinitePositive(scale, nameof(scale));

    }

    /// <summary>m.</summary>
    public double Location { get; }

    /// <summary>s.</summary>
    public double Scale { get; }

    /// <summary>The density <c>p(t) = φ((logit t − m)/s) / (s·t(1 − t))</c> on (0, 1).</summary>
    /// <param name="t">The time.</param>
    /// <returns>The density (0 at the ends).</returns>
    public double Density(double t)
    {
        if (!(t > 0 && t < 1))
        {
            return 0;
        }

        double z = (Math.Log(t / (1 - t)) - Location) / Scale;
        return Math.Exp(-0.5 * z * z) / (Math.Sqrt(2 * Math.PI) * Scale * t * (1 - t));
    }

    /// <inheritdoc />
    public double Sample(IRandomSource random)
    {
        // Box–Muller, cosine branch.
        double z = Math.Sqrt(-2 * Math.Log(random.NextOpenDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return 1 / (1 + Math.Exp(-(Location + (Scale * z))));
    }
}

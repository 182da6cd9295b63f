using Logits.Processing;
using Logits.Processing.Warping;

namespace Logits.Pipelines;

/// <summary>Fluent methods for the warpers (<c>Processing.Warping</c>): temperature and dynamic temperature.</summary>
/// <remarks>
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder().TopP(0.95).Temperature(0.7).Multinomial(seed: 1);
/// var entropyAware = LogitPipeline.CreateBuilder().DynamicTemperature(0.8, 0.3).Multinomial(seed: 1);
/// </code>
/// </remarks>
public static class WarpingBuilderExtensions
{
    /// <summary>Appends <see cref="TemperatureProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="temperature">The temperature (below 1e-5: greedy).</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder Temperature(this LogitPipelineBuilder builder, PerRow<double> temperature) => Builder(builder).Add(new TemperatureProcessor(temperature));

    /// <summary>Appends <see cref="DynamicTemperatureProcessor"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="temperature">The centre temperature <c>T0</c> (below 1e-5: greedy).</param>
    /// <param name="delta">The range <c>Δ ≥ 0</c>.</param>
    /// <param name="exponent">The entropy exponent, greater than 0.</param>
    /// <returns>The builder.</returns>
    public static LogitPipelineBuilder DynamicTemperature(this LogitPipelineBuilder builder, PerRow<double> temperature, PerRow<double> delta, double exponent = 1.0) =>
        Builder(builder).Add(new DynamicTemperatureProcessor(temperature, delta, exponent));

    private static LogitPipelineBuilder Builder(LogitPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}

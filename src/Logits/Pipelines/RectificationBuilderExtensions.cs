using Logits.Processing;
using Logits.Processing.Rectification;

namespace Logits.Pipelines;

/// <summary>Fluent methods for rectification (<c>Processing.Rectification</c>): Transformer Copilot's fused inference.</summary>
/// <remarks>
/// The Copilot's correction comes from an <see cref="ILogitSource"/> each step; the processor belongs first in the
/// chain, on raw model logits:
/// <code>
/// var pipeline = LogitPipeline.CreateBuilder()
///     .CopilotRectification(copilotState, lambda: 1)
///     .TopP(0.95).Temperature(0.7)
///     .Multinomial(seed: 42);
/// </code>
/// </remarks>
public static class RectificationBuilderExtensions
{
    /// <summary>Appends <see cref="CopilotRectificationProcessor"/> (Transformer Copilot, arXiv 2505.16270).</summary>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="correctionSource">Writes the Copilot's correction <c>f^C</c> for every row each step.</param>
    /// <param name="lambda">The rectification strength λ, finite and ≥ 0 (default 1).</param>
    /// <param name="mode">Probability fusion (paper Eq. 8, default) or logit fusion.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> or <paramref name="mode"/> is invalid.</exception>
    public static LogitPipelineBuilder CopilotRectification(
        this LogitPipelineBuilder builder,
        ILogitSource correctionSource,
        double lambda = CopilotFusion.DefaultLambda,
        CopilotFusionMode mode = CopilotFusionMode.Probability)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new CopilotRectificationProcessor(correctionSource, lambda, mode));
    }

}

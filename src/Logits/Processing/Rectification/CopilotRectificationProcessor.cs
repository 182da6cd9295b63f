
namespace Logits.Processing.Rectification;

/// <summary>
/// Transformer Copilot rectification: fuses the Pilot's logits with the Copilot's per-step correction
/// <c>f^C</c>, obtained from an <see cref="ILogitSource"/>.
/// </summary>
/// <remarks>
/// <para>Zou et al., <i>Transformer Copilot: Learning from The Mistake Log in LLM Fine-tuning</i>,
/// arXiv 2505.16270, Eq. 8 and Algorithm 2 (docs/algorithms/paper-methods.md#fusion). The processed batch is the
/// Pilot's logits <c>z</c>; the source writes the Copilot's outputs for the same rows and step (a Copilot
/// decoding state, which holds the memory and <c>f^C_{i−1}</c>; this processor needs nothing from
/// training).</para>
/// <para>Rule, per row (see <see cref="CopilotFusion"/> for the full statement):</para>
/// <list type="bullet">
/// <item><see cref="CopilotFusionMode.Probability"/> (default): <c>p̃ = softmax(z) + λ·f^C</c>; the row
/// becomes <c>log q</c>, <c>q = max(p̃, 0) / Σ max(p̃, 0)</c>, with <c>−∞</c> exactly where <c>q = 0</c>, and
/// one-hot on <c>argmax p̃</c> (log 0 there) when no entry is positive. Later processors and the sampler
/// therefore see the fused, renormalised distribution, and greedy selection returns <c>argmax p̃</c>.</item>
/// <item><see cref="CopilotFusionMode.Logit"/>: the row becomes <c>z + λ·f^C</c>.</item>
/// </list>
/// <para>Library decisions: λ defaults to 1 (the paper's worked figure); filtered tokens (<c>−∞</c>) stay filtered whatever the
/// correction; all-<c>−∞</c> rows pass through; with <c>λ = 0</c> the source is not called (the Pilot alone:
/// <c>logsoftmax(z)</c> in probability mode, <c>z</c> in logit mode). Place it first in the chain, on raw
/// Pilot logits. Not argmax-invariant. Errors: a non-finite correction throws
/// <see cref="InvalidLogitsException"/> with stage <see cref="CopilotFusion.CorrectionStage"/>.</para>
/// <para>Each call creates one correction batch with <see cref="LogitBatch.CreateLike"/> (the
/// <see cref="ILogitSource"/> contract) and disposes it before returning.</para>
/// </remarks>
public sealed class CopilotRectificationProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="correctionSource">Writes the Copilot's correction <c>f^C</c> for every row each step.</param>
    /// <param name="lambda">The rectification strength λ, finite and ≥ 0 (0 = Pilot only).</param>
    /// <param name="mode">The fusion mode.</param>
    /// <exception cref="ArgumentNullException"><paramref name="correctionSource"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    public CopilotRectificationProcessor(ILogitSource correctionSource, double lambda = CopilotFusion.DefaultLambda, CopilotFusionMode mode = CopilotFusionMode.Probability)
    {
        ArgumentNullException.ThrowIfNull(correctionSource);
        CopilotFusion.Validate(lambda, mode);
        CorrectionSource = correctionSource;
        Lambda = lambda;
        Mode = mode;
    }

    /// <summary>The source of the Copilot's correction.</summary>
    public ILogitSource CorrectionSource { get; }

    /// <summary>The rectification strength λ.</summary>
    public double Lambda { get; }

    /// <summary>The fusion mode.</summary>
    public CopilotFusionMode Mode { get; }

    /// <inheritdoc />
    public override string Name => CopilotFusion.FusionStage;

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        if (Lambda == 0)
        {
            if (Mode == CopilotFusionMode.Probability)
            {
                logits.Kernels.LogSoftmax(logits, logits);
            }

            return;
        }

        using var correction = logits.CreateLike();
        CorrectionSource.FillLogits(contexts, correction);
        CopilotFusion.Fuse(logits, correction, Lambda, Mode, logits);
    }
}

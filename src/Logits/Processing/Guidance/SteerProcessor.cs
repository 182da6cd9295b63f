
namespace Logits.Processing.Guidance;

/// <summary>
/// STEER contrastive expert guidance with negative prompting: the processed row is the expert's logits, and
/// the base model's and the negative-prompt logits come from two <see cref="ILogitSource"/> instances.
/// </summary>
/// <remarks>
/// <para>O'Neill et al., <i>Steering Language Generation: Harnessing Contrastive Expert Guidance and Negative
/// Prompting for Coherent and Diverse Synthetic Data Generation</i>, arXiv 2308.07645 (docs/algorithms/guidance.md#steer).</para>
/// <para>Rule: <c>steer = (1 + γ)·logsoftmax(z_ft) − γ·logsoftmax(z_base) − η·logsoftmax(z_neg)</c>, with the
/// <c>−∞</c> rule of <see cref="Steer"/> (a <c>−∞</c> provider entry gives no guidance for that token;
/// <c>−∞</c> in the expert row is sticky). The output is unnormalised log-space scores that later stages
/// treat as logits; the paper's setup follows STEER with top-k 10 and temperature 1
/// (<c>SteerPaperSetup</c> in the builder extensions).</para>
/// <para>Sources: the base source runs the base model on the same prefix; the negative source runs the expert
/// on the row's negative prompt (drawn once per sample from a <see cref="NegativePromptPool"/>) followed by the
/// generated tokens, with its own KV cache. With <c>γ = 0</c> the base source is not called (it may be null);
/// with <c>η = 0</c> the negative source is not called (it may be null). Each call creates at most two
/// provider batches with <see cref="LogitBatch.CreateLike"/> and disposes them before returning.</para>
/// <para>Library decisions: the final single-expression form; defaults γ = 0.2,
/// η = 0.6; any finite <c>η ≥ 0</c> (above 1 reverses the ranking). Run it first in the chain, on raw
/// model logits. Not argmax-invariant. NaN/<c>+∞</c> from a source throws
/// <see cref="InvalidLogitsException"/> with stage <c>"steer-base"</c> or <c>"steer-negative"</c>.</para>
/// </remarks>
public sealed class SteerProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="baseSource">The base model's logits on the same prefix; may be null only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negativeSource">The expert's logits on the negative prompt plus the generated tokens; may be null only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, the expert-guidance strength, finite and ≥ 0.</param>
    /// <param name="eta">η, the negative-prompt strength, finite and ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> or <paramref name="eta"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentNullException">A source is null while its coefficient is positive.</exception>
    public SteerProcessor(ILogitSource? baseSource, ILogitSource? negativeSource, double gamma = Steer.DefaultGamma, double eta = Steer.DefaultEta)
    {
        Steer.Validate(gamma, eta);
        if (gamma > 0)
        {
            ArgumentNullException.ThrowIfNull(baseSource);
        }

        if (eta > 0)
        {
            ArgumentNullException.ThrowIfNull(negativeSource);
        }

        BaseSource = baseSource;
        NegativeSource = negativeSource;
        Gamma = gamma;
        Eta = eta;
    }

    /// <summary>The base model's logits source (null when γ = 0 and none was given).</summary>
    public ILogitSource? BaseSource { get; }

    /// <summary>The negative-prompt logits source (null when η = 0 and none was given).</summary>
    public ILogitSource? NegativeSource { get; }

    /// <summary>γ, the expert-guidance strength.</summary>
    public double Gamma { get; }

    /// <summary>η, the negative-prompt strength.</summary>
    public double Eta { get; }

    /// <inheritdoc />
    public override string Name => "steer";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        LogitBatch? baseLogits = null;
        LogitBatch? negative = null;
        try
        {
            if (Gamma > 0)
            {
                baseLogits = logits.CreateLike();
                BaseSource!.FillLogits(contexts, baseLogits);
            }

            if (Eta > 0)
            {
                negative = logits.CreateLike();
                NegativeSource!.FillLogits(contexts, negative);
            }

            Steer.CombineCore(logits, baseLogits, true, negative, true, (float)Gamma, (float)Eta, logits);
        }
        finally
        {
            baseLogits?.Dispose();
            negative?.Dispose();
        }
    }
}

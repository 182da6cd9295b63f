
namespace Logits.Processing.Constraints;

/// <summary>Logit normalisation: replaces every row by its stable log-softmax.</summary>
/// <remarks>
/// Rule (docs/algorithms/constraints.md#logit-normalisation; HF <c>LogitNormalization</c>): <c>z_i ← z_i − m − ln Σ_F exp(z_j − m)</c>
/// over the finite tokens; <c>-∞</c> stays <c>-∞</c>. Used before beam scores are accumulated.
/// Subtracting one constant per row cannot change the argmax: argmax-invariant.
/// </remarks>
public sealed class LogitNormalizationProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    public LogitNormalizationProcessor()
        : base(RowMaximaUse.GuardOnly)
    {
    }

    /// <summary>The shared instance (the processor has no parameters).</summary>
    public static LogitNormalizationProcessor Instance { get; } = new();

    /// <inheritdoc />
    public override string Name => "logit-normalization";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax) =>
        logits.Kernels.LogSoftmax(logits, logits);
}

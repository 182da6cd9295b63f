
namespace Logits.Processing.Constraints;

/// <summary>Forced BOS: at the first generated position, only <c>BosId</c> is possible.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#forced-bos; HF <c>ForcedBOSTokenLogitsProcessor</c>): when <c>Generated = 0</c>,
/// every token becomes <c>-∞</c> except <c>BosId</c>, which is set to 0 (even if it was <c>-∞</c>: forced
/// tokens are the one exception to "−∞ is sticky"). Other steps are unchanged.</para>
/// <para>Library decision: a row that is already all <c>-∞</c> stays all <c>-∞</c> (the
/// <see cref="LogitProcessor"/> base passes empty rows through unchanged), so an upstream constraint that
/// emptied the row is reported by the selector rather than silently overridden.</para>
/// <para><c>BosId</c> must be below the vocabulary size (checked on first use). Not argmax-invariant.</para>
/// </remarks>
public sealed class ForcedBosProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly int[] _ids;

    /// <summary>Creates the processor.</summary>
    /// <param name="bosTokenId">The forced token id, at least 0.</param>
    /// <exception cref="ArgumentException"><paramref name="bosTokenId"/> is negative.</exception>
    public ForcedBosProcessor(int bosTokenId)
        : base(RowMaximaUse.GuardOnly)
    {
        if (bosTokenId < 0)
        {
            ThrowHelper.ThrowArgument(nameof(bosTokenId), $"is the negative token id {bosTokenId}; token ids are at least 0.");
        }

        BosTokenId = bosTokenId;
        _ids = new[] { bosTokenId };
    }

    /// <summary>The forced token id.</summary>
    public int BosTokenId { get; }

    /// <inheritdoc />
    public override string Name => "forced-bos";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException"><see cref="BosTokenId"/> is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        TokenIdSets.EnsureBelowVocab(BosTokenId, logits.Vocab, "bosTokenId");
        int rows = logits.Rows;
        var active = TokenIdSets.RentFlags(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                active[r] = contexts[r].Generated == 0;
                any |= active[r];
            }

            if (any)
            {
                TokenIdSets.ForceInRows(logits, _ids, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

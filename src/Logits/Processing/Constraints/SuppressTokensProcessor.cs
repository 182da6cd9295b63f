
namespace Logits.Processing.Constraints;

/// <summary>Suppress tokens: sets a fixed set of tokens to <c>-∞</c> at every step.</summary>
/// <remarks>
/// Rule (docs/algorithms/constraints.md#suppress-tokens; HF <c>SuppressTokensLogitsProcessor</c>): every id of the set becomes
/// <c>-∞</c>. The set must be non-empty; ids must be below the vocabulary size (checked on first use).
/// Not argmax-invariant.
/// </remarks>
public sealed class SuppressTokensProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly int[] _ids;

    /// <summary>Creates the processor.</summary>
    /// <param name="tokenIds">At least one id, every id ≥ 0.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokenIds"/> is null.</exception>
    /// <exception cref="ArgumentException">The set is empty or holds a negative id.</exception>
    public SuppressTokensProcessor(IEnumerable<int> tokenIds)
        : base(RowMaximaUse.None)
    {
        _ids = TokenIdSets.Distinct(tokenIds, nameof(tokenIds), allowEmpty: false);
    }

    /// <summary>The suppressed ids (sorted, distinct).</summary>
    public IReadOnlyList<int> TokenIds => _ids;

    /// <inheritdoc />
    public override string Name => "suppress-tokens";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An id is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_ids), logits.Vocab, "tokenIds");
        int rows = logits.Rows;
        var active = TokenIdSets.RentFlags(rows);
        try
        {
            active.AsSpan(0, rows).Fill(true);
            TokenIdSets.SetInRows(logits, _ids, float.NegativeInfinity, active.AsSpan(0, rows));
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

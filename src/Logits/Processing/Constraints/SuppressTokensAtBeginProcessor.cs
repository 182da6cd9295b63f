
namespace Logits.Processing.Constraints;

/// <summary>Suppress at begin: sets a fixed set of tokens to <c>-∞</c> only at one generation step (Whisper).</summary>
/// <remarks>
/// Rule (docs/algorithms/constraints.md#suppress-tokens; HF <c>SuppressTokensAtBeginLogitsProcessor</c>): when
/// <c>Generated = BeginIndex</c> (default 0), every id of the set becomes <c>-∞</c>; other steps are
/// unchanged. The set must be non-empty; ids must be below the vocabulary size (checked on first use).
/// Not argmax-invariant.
/// </remarks>
public sealed class SuppressTokensAtBeginProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly int[] _ids;

    /// <summary>Creates the processor.</summary>
    /// <param name="tokenIds">At least one id, every id ≥ 0.</param>
    /// <param name="beginIndex">At least 0: the value of <c>Generated</c> at which the set is suppressed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tokenIds"/> is null.</exception>
    /// <exception cref="ArgumentException">The set is empty or holds a negative id.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beginIndex"/> is negative.</exception>
    public SuppressTokensAtBeginProcessor(IEnumerable<int> tokenIds, int beginIndex = 0)
        : base(RowMaximaUse.None)
    {
        _ids = TokenIdSets.Distinct(tokenIds, nameof(tokenIds), allowEmpty: false);
        if (beginIndex < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(beginIndex), beginIndex, "must be at least 0");
        }

        BeginIndex = beginIndex;
    }

    /// <summary>The suppressed ids (sorted, distinct).</summary>
    public IReadOnlyList<int> TokenIds => _ids;

    /// <summary>The generation step (number of generated tokens) at which the set is suppressed.</summary>
    public int BeginIndex { get; }

    /// <inheritdoc />
    public override string Name => "suppress-tokens-at-begin";

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
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                active[r] = contexts[r].Generated == BeginIndex;
                any |= active[r];
            }

            if (any)
            {
                TokenIdSets.SetInRows(logits, _ids, float.NegativeInfinity, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

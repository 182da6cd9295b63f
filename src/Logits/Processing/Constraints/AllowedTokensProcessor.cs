
namespace Logits.Processing.Constraints;

/// <summary>Returns the token ids allowed next for one row (HF's <c>prefix_allowed_tokens_fn</c>).</summary>
/// <param name="row">The row index.</param>
/// <param name="history">The row's history, prompt followed by output.</param>
/// <returns>The allowed ids: at least one, each in <c>[0, V)</c>; duplicates are allowed.</returns>
public delegate IReadOnlyList<int> AllowedTokensCallback(int row, ReadOnlyMemory<int> history);

/// <summary>Allowed tokens (whitelist / prefix-constrained decoding): every token outside the allowed set becomes <c>-∞</c>.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#allowed-tokens; HF <c>PrefixConstrainedLogitsProcessor</c>): allowed tokens keep their
/// value (a <c>-∞</c> allowed token stays <c>-∞</c>); all others become <c>-∞</c>. The set is fixed, or
/// comes from a callback <c>(row, history) → ids</c> at every step.</para>
/// <para>One <see cref="ILogitKernels.MaskExceptTokens"/> call (on a device backend the values are never read back). A
/// row whose allowed tokens are all <c>-∞</c> ends empty, and the selector raises.</para>
/// <para>Errors: an empty fixed set throws <see cref="ArgumentException"/> at construction; an empty callback
/// result (or a negative id in it) throws <see cref="InvalidOperationException"/> naming the row; an id at
/// least the vocabulary size throws <see cref="ArgumentOutOfRangeException"/> when first used. Not
/// argmax-invariant.</para>
/// </remarks>
public sealed class AllowedTokensProcessor : LogitProcessor
{
    private readonly int[]? _allowed;

    /// <summary>Creates the processor with a fixed allowed set.</summary>
    /// <param name="allowedTokenIds">At least one id, every id ≥ 0; duplicates are merged.</param>
    /// <exception cref="ArgumentNullException"><paramref name="allowedTokenIds"/> is null.</exception>
    /// <exception cref="ArgumentException">The set is empty or holds a negative id.</exception>
    public AllowedTokensProcessor(IEnumerable<int> allowedTokenIds)
        : base(RowMaximaUse.None)
    {
        _allowed = TokenIdSets.Distinct(allowedTokenIds, nameof(allowedTokenIds), allowEmpty: false);
    }

    /// <summary>Creates the processor with a callback called for every row at every step.</summary>
    /// <param name="callback">Returns the allowed ids of a row given its history.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public AllowedTokensProcessor(AllowedTokensCallback callback)
        : base(RowMaximaUse.None)
    {
        ArgumentNullException.ThrowIfNull(callback);
        Callback = callback;
    }

    /// <summary>The fixed allowed set (sorted, distinct), or <see langword="null"/> when a callback is used.</summary>
    public IReadOnlyList<int>? AllowedTokenIds => _allowed;

    /// <summary>The callback, or <see langword="null"/> when the set is fixed.</summary>
    public AllowedTokensCallback? Callback { get; }

    /// <inheritdoc />
    public override string Name => "allowed-tokens";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An allowed id is at least the vocabulary size.</exception>
    /// <exception cref="InvalidOperationException">The callback returned no id, or a negative id, for a row.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        if (_allowed is not null)
        {
            TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_allowed), logits.Vocab, "allowedTokenIds");
            Keep(logits, _allowed, null, _allowed.Length);
            return;
        }

        int rows = logits.Rows;
        var results = new IReadOnlyList<int>[rows];
        int width = 0;
        for (int r = 0; r < rows; r++)
        {
            var ids = Callback!(r, contexts[r].History);
            if (ids is null || ids.Count == 0)
            {
                throw new InvalidOperationException($"The allowed-tokens callback returned no token id for row {r}; at least one token must be allowed.");
            }

            for (int j = 0; j < ids.Count; j++)
            {
                if (ids[j] < 0)
                {
                    throw new InvalidOperationException($"The allowed-tokens callback returned the negative token id {ids[j]} for row {r}.");
                }

                if (ids[j] >= logits.Vocab)
                {
                    ThrowHelper.ThrowArgumentOutOfRange("callback", ids[j], $"returned a token id for row {r} that must be below the vocabulary size {logits.Vocab}");
                }
            }

            results[r] = ids;
            width = Math.Max(width, ids.Count);
        }

        Keep(logits, null, results, width);
    }

    /// <summary>Keeps only the allowed ids of every row with one <see cref="ILogitKernels.MaskExceptTokens"/> call.</summary>
    private static void Keep(LogitBatch logits, int[]? fixedIds, IReadOnlyList<int>[]? perRowIds, int width)
    {
        int rows = logits.Rows;
        int length = rows * width;
        var ids = LogitProcessorBuffers.RentInts(length);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var rowIds = ids.AsSpan(r * width, width);
                if (fixedIds is not null)
                {
                    fixedIds.CopyTo(rowIds);
                }
                else
                {
                    var list = perRowIds![r];
                    rowIds.Fill(-1);
                    for (int j = 0; j < list.Count; j++)
                    {
                        rowIds[j] = list[j];
                    }
                }
            }

            // One mask: the allowed values stay where they are (-inf ones stay -inf); nothing is read back.
            logits.Kernels.MaskExceptTokens(logits, ids.AsSpan(0, length), logits);
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
        }
    }
}

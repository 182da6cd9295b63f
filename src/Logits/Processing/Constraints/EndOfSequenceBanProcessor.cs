
namespace Logits.Processing.Constraints;

/// <summary>
/// The base of <see cref="MinLengthProcessor"/> and <see cref="MinNewTokensProcessor"/>: bans each row's EOS ids (from
/// its <see cref="SamplingContext"/>) and the extra stop ids (<c>-∞</c>) in the rows whose length is still below the
/// minimum. The two differ only in what length counts: the whole history, or the generated tokens.
/// </summary>
public abstract class EndOfSequenceBanProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    private readonly int[] _stop;

    private protected EndOfSequenceBanProcessor(int minimum, string minimumName, IEnumerable<int>? stopTokenIds)

        : base(RowMaximaUse.None)
    {
        Minimum = Require.AtLeast(minimum, 0, minimumName);
        _stop = TokenIdSets.Distinct(stopTokenIds ?? Array.Empty<int>(), nameof(stopTokenIds), allowEmpty: true);
    }

    /// <summary>The extra stop ids (sorted, distinct; may be empty).</summary>
    public IReadOnlyList<int> StopTokenIds => _stop;

    /// <inheritdoc />
    public sealed override bool IsArgmaxInvariant => false;

    private protected int Minimum { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An EOS or stop id is at least the vocabulary size.</exception>
    /// <exception cref="InvalidOperationException">A row's <see cref="SamplingContext"/> has no EOS ids.</exception>
    protected sealed override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        TokenIdSets.CheckEos(contexts, rows, logits.Vocab, Name, required: true, logits.RowOffset);
        TokenIdSets.EnsureBelowVocab(TokenIdSets.Max(_stop), logits.Vocab, "stopTokenIds");
        var active = TokenIdSets.RentFlags(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                active[r] = CountedLength(contexts[r]) < Minimum;
                any |= active[r];
            }

            if (any)
            {
                TokenIdSets.SetEosInRows(logits, contexts, _stop, float.NegativeInfinity, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }

    /// <summary>The length of a row that is compared with the minimum.</summary>
    private protected abstract int CountedLength(SamplingContext context);
}

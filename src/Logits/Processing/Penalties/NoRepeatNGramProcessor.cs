
namespace Logits.Processing.Penalties;

/// <summary>No-repeat n-gram: bans every token that would complete an n-gram already present in the history.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/penalties.md#no-repeat-n-gram; Hugging Face's <c>NoRepeatNGramLogitsProcessor</c>): with the history
/// <c>h</c> of length <c>n</c>, if <c>n + 1 &lt; N</c> do nothing. For <c>N = 1</c>, ban every token already present.
/// Otherwise let <c>g</c> be the last <c>N − 1</c> tokens and set to <c>-∞</c> every token that follows an earlier
/// occurrence of <c>g</c> (one whose complete n-gram lies inside the history). E.g. <c>[1,2,3,1,2]</c> with
/// <c>N = 3</c> bans 3.</para>
/// <para>The history is the <see cref="Scope"/> (the whole history including the prompt by default, as HF) with
/// padding (negative ids) removed. A history id ≥ V throws <see cref="ArgumentOutOfRangeException"/>.
/// Stateless: the history is rescanned every step (<c>O(n·N)</c>), so there is nothing to accept, reset or clone.
/// Banned tokens are scattered as <c>-∞</c>; nothing else changes. Not argmax-invariant.</para>
/// </remarks>
public sealed class NoRepeatNGramProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="ngramSize">N ≥ 1.</param>
    /// <param name="scope">Which part of the history is read.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ngramSize"/> is below 1, or the scope is undefined.</exception>
    public NoRepeatNGramProcessor(int ngramSize, PenaltyScope scope = PenaltyScope.PromptAndOutput)
        : base(RowMaximaUse.None)
    {
        if (ngramSize < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(ngramSize), ngramSize, "must be at least 1");
        }

        NGramSize = ngramSize;
        Scope = PenaltyHistory.ValidateScope(scope, nameof(scope));
    }

    /// <summary>N, the n-gram length.</summary>
    public int NGramSize { get; }

    /// <summary>Which part of the history is read.</summary>
    public PenaltyScope Scope { get; }

    /// <inheritdoc />
    public override string Name => "no-repeat-ngram";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">A history id is at least the vocabulary size.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        int longest = PenaltyHistory.Longest(contexts);

        if (longest == 0)
        {
            return;
        }

        var sequence = LogitProcessorBuffers.RentInts(longest);
        var banned = LogitProcessorBuffers.RentInts(longest);
        var edits = new SparseRowEdits(rows, 64);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                CollectRow(contexts[r], logits.RowOffset + r, logits.Vocab, sequence, banned, ref edits);
                edits.EndRow();
            }

            if (!edits.Prepare(logits, gather: false))
            {
                return;
            }

            for (int r = 0; r < rows; r++)
            {
                for (int e = edits.RowStart(r); e < edits.RowEnd(r); e++)
                {
                    edits.Value(r, e) = float.NegativeInfinity;
                }
            }

            edits.Scatter(logits);
        }
        finally
        {
            edits.Dispose();
            LogitProcessorBuffers.Return(banned);
            LogitProcessorBuffers.Return(sequence);
        }
    }

    private void CollectRow(SamplingContext context, int row, int vocab, int[] sequence, int[] banned, ref SparseRowEdits edits)
    {
        var history = context.History.Span;
        int n = PenaltyHistory.CopyIds(history, PenaltyHistory.ScopeStart(context, Scope), vocab, row, sequence);
        int size = NGramSize;
        int count = 0;
        if (size == 1)
        {
            sequence.AsSpan(0, n).CopyTo(banned);
            count = n;
        }
        else if (n + 1 >= size)
        {
            var prefix = sequence.AsSpan(n - size + 1, size - 1); // g, the last N - 1 tokens
            for (int s = 0; s + size <= n; s++)
            {
                if (sequence.AsSpan(s, size - 1).SequenceEqual(prefix))
                {
                    banned[count++] = sequence[s + size - 1];
                }
            }
        }

        var ids = banned.AsSpan(0, count);
        ids.Sort();
        for (int i = 0; i < count; i++)
        {
            if (i == 0 || ids[i] != ids[i - 1])
            {
                edits.Add(ids[i], 0, 0);
            }
        }
    }
}

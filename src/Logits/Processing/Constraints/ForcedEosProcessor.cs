
namespace Logits.Processing.Constraints;

/// <summary>Forced EOS: at the last position allowed by <c>MaxLength</c>, only the EOS ids are possible.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#forced-eos; HF <c>ForcedEOSTokenLogitsProcessor</c>): when
/// <c>|history| = MaxLength − 1</c> (prompt + output), every token becomes <c>-∞</c> except the EOS ids,
/// which are set to 0 (even if they were <c>-∞</c>: forced tokens are the one exception to "−∞ is
/// sticky"). Other steps are unchanged.</para>
/// <para>Library decision: a row that is already all <c>-∞</c> stays all <c>-∞</c> (the
/// <see cref="LogitProcessor"/> base passes empty rows through unchanged), so an upstream constraint that
/// emptied the row is reported by the selector rather than silently overridden.</para>
/// <para>The EOS ids are each row's <see cref="SamplingContext.EosTokenIds"/> (a row without any is an error),
/// below the vocabulary size (checked on every call). Not argmax-invariant.</para>
/// </remarks>
public sealed class ForcedEosProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="maxLength">At least 1: the maximum history length (prompt + output).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is below 1.</exception>
    public ForcedEosProcessor(int maxLength)
        : base(RowMaximaUse.GuardOnly)
    {
        if (maxLength < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxLength), maxLength, "must be at least 1");
        }

        MaxLength = maxLength;
    }

    /// <summary>The maximum history length (prompt + output).</summary>
    public int MaxLength { get; }

    /// <inheritdoc />
    public override string Name => "forced-eos";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An EOS id is at least the vocabulary size.</exception>
    /// <exception cref="InvalidOperationException">A row's <see cref="SamplingContext"/> has no EOS ids.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        TokenIdSets.CheckEos(contexts, rows, logits.Vocab, Name, required: true, logits.RowOffset);
        var active = TokenIdSets.RentFlags(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                active[r] = contexts[r].History.Length == MaxLength - 1;
                any |= active[r];
            }

            if (any)
            {
                TokenIdSets.ForceEosInRows(logits, contexts, active.AsSpan(0, rows));
            }
        }
        finally
        {
            TokenIdSets.Return(active);
        }
    }
}

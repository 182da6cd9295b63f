
namespace Logits.Processing.Constraints;

/// <summary>Exponential-decay length penalty: raises the EOS logits exponentially once <c>StartIndex</c> tokens were generated.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/constraints.md#exponential-decay-length-penalty; HF <c>ExponentialDecayLengthPenalty</c>): with
/// <c>k = Generated − StartIndex</c>, when <c>k &gt; 0</c>, every EOS id with a finite logit gets
/// <c>z_eos ← z_eos + |z_eos|·(DecayFactor^k − 1)</c>, evaluated in float64 and rounded to float32 once.</para>
/// <para>Edge cases: an overflow to <c>+∞</c> (in float64, or when rounding to float32) becomes
/// <c>float.MaxValue</c>; <c>z_eos = 0</c> gets no boost (never <c>0·∞ = NaN</c>, even after
/// <c>DecayFactor^k</c> overflows); a <c>-∞</c> EOS logit stays <c>-∞</c>. The EOS ids are each row's
/// <see cref="SamplingContext.EosTokenIds"/> (a row without any is an error), below the vocabulary size
/// (checked on every call). Not argmax-invariant.</para>
/// </remarks>
public sealed class ExponentialDecayLengthPenaltyProcessor : LogitProcessor
{
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

    /// <summary>Creates the processor.</summary>
    /// <param name="startIndex">At least 0: the number of generated tokens after which the boost starts.</param>
    /// <param name="decayFactor">Finite and greater than 1: the growth factor per generated token.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startIndex"/> is negative, or
    /// <paramref name="decayFactor"/> is not finite or not greater than 1.</exception>
    public ExponentialDecayLengthPenaltyProcessor(int startIndex, double decayFactor)
        : base(RowMaximaUse.None)
    {
        if (startIndex < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(startIndex), startIndex, "must be at least 0");
        }

        if (!(decayFactor > 1) || !double.IsFinite(decayFactor))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(decayFactor), decayFactor, "must be finite and greater than 1");
        }

        StartIndex = startIndex;
        DecayFactor = decayFactor;
    }

    /// <summary>The number of generated tokens after which the boost starts.</summary>
    public int StartIndex { get; }

    /// <summary>The growth factor per generated token beyond <see cref="StartIndex"/>.</summary>
    public double DecayFactor { get; }

    /// <inheritdoc />
    public override string Name => "exponential-decay-length-penalty";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An EOS id is at least the vocabulary size.</exception>
    /// <exception cref="InvalidOperationException">A row's <see cref="SamplingContext"/> has no EOS ids.</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        TokenIdSets.CheckEos(contexts, rows, logits.Vocab, Name, required: true, logits.RowOffset);
        int width = 0;
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            if ((long)contexts[r].Generated - StartIndex > 0)
            {
                any = true;
                width = Math.Max(width, contexts[r].EosIds.Length);
            }
        }

        if (!any)
        {
            return;
        }

        var ids = LogitProcessorBuffers.RentInts(rows * width);
        var growth = LogitProcessorBuffers.RentDoubles(rows * width);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var rowIds = ids.AsSpan(r * width, width);
                rowIds.Fill(-1);
                int k = contexts[r].Generated - StartIndex;
                if (k > 0)
                {
                    contexts[r].EosIds.CopyTo(rowIds);
                }

                // z + |z|·(decay^k - 1): a removed EOS stays removed, and a zero logit gets no boost.
                growth.AsSpan(r * width, width).Fill(k > 0 ? Math.Pow(DecayFactor, k) - 1 : 0);
            }

            logits.Kernels.BoostTokens(logits, ids.AsSpan(0, rows * width), growth.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
            LogitProcessorBuffers.Return(growth);
        }
    }
}

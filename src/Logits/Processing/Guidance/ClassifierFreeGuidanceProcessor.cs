using Logits.Processing.Constraints;

namespace Logits.Processing.Guidance;

/// <summary>Classifier-free guidance (unbatched): extrapolates from the unconditional towards the conditional log-probabilities.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/guidance.md#classifier-free-guidance; Sanchez et al., "Stay on topic with Classifier-Free Guidance",
/// arXiv 2306.17806; HF <c>UnbatchedClassifierFreeGuidanceLogitsProcessor</c>): <c>c = logsoftmax(z)</c>,
/// <c>u = logsoftmax(z_uncond)</c>, output <c>u + Scale·(c − u)</c>. The output is unnormalised
/// log-probabilities, which later stages treat as logits. <c>Scale = 1</c> outputs <c>c</c> and does not call
/// the provider; <c>Scale &gt; 1</c> strengthens the prompt; <c>Scale &lt; 1</c> makes the unconditional
/// (negative) prompt act positively.</para>
/// <para>Non-finite values: <c>c_i = -∞</c> gives <c>-∞</c>; <c>c_i</c> finite and <c>u_i = -∞</c> gives
/// <c>c_i</c> (no guidance for that token, avoiding <c>∞ − ∞</c>); a NaN or <c>+∞</c> from the provider
/// throws <see cref="InvalidLogitsException"/> with stage <c>"cfg-unconditional"</c>. An all-<c>-∞</c>
/// unconditional row therefore leaves <c>c</c>.</para>
/// <para>Execution: both log-softmaxes and the combination <c>(1 − Scale)·u + Scale·c</c> are kernels. Since
/// Affine forbids <c>-∞</c> with a negative coefficient, rows holding <c>-∞</c> (found with one k-th-largest
/// pass, <c>k = V</c>, that gives the row minimum) are read to the host to list those ids; they are set to 0
/// before the combination and written back afterwards (<c>-∞</c>, or the gathered <c>c_i</c>).</para>
/// <para>One unconditional batch is created per call with <see cref="LogitBatch.CreateLike"/> (the processor is
/// immutable and may be shared). Not argmax-invariant. The same combination on host rows, without a provider, is
/// <see cref="ClassifierFreeGuidance.Combine"/>.</para>
/// </remarks>
public sealed class ClassifierFreeGuidanceProcessor : LogitProcessor
{
    /// <summary>The stage reported when the provider returns NaN or <c>+∞</c>.</summary>
    public const string UnconditionalStage = "cfg-unconditional";

    /// <summary>Creates the processor.</summary>
    /// <param name="scale">The guidance scale, finite; 1 = off.</param>
    /// <param name="provider">Supplies the unconditional logits of each step.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scale"/> is NaN or infinite.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="provider"/> is null.</exception>
    public ClassifierFreeGuidanceProcessor(double scale, IUnconditionalLogitsProvider provider)
    {
        if (!double.IsFinite(scale))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(scale), scale, "must be finite (1 = no guidance)");
        }

        ArgumentNullException.ThrowIfNull(provider);
        Scale = scale;
        Provider = provider;
    }

    /// <summary>The guidance scale.</summary>
    public double Scale { get; }

    /// <summary>The unconditional-logits provider.</summary>
    public IUnconditionalLogitsProvider Provider { get; }

    /// <inheritdoc />
    public override string Name => "cfg";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    /// <exception cref="InvalidLogitsException">The provider returned NaN or <c>+∞</c> (stage <c>"cfg-unconditional"</c>),
    /// or the combination overflowed (stage <c>"affine"</c>).</exception>
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        if (Scale == 1.0)
        {
            logits.Kernels.LogSoftmax(logits, logits);
            return;
        }

        using var unconditional = logits.CreateLike();
        Provider.GetUnconditionalLogits(contexts, unconditional);

        int rows = logits.Rows;
        var conditionalRemoved = TokenIdSets.RentFlags(rows);
        var unconditionalRemoved = TokenIdSets.RentFlags(rows);
        try
        {
            bool anyInfinite = RowChecks.RemovedTokens(logits, conditionalRemoved.AsSpan(0, rows), stage: null);
            anyInfinite |= RowChecks.RemovedTokens(unconditional, unconditionalRemoved.AsSpan(0, rows), UnconditionalStage);
            if (!anyInfinite)
            {
                Combine(logits, unconditional);
            }
            else
            {
                CombineWithInfinities(logits, unconditional, conditionalRemoved, unconditionalRemoved);
            }
        }
        finally
        {
            TokenIdSets.Return(conditionalRemoved);
            TokenIdSets.Return(unconditionalRemoved);
        }
    }

    /// <summary>All entries finite: <c>logits ← (1 − s)·u + s·c</c> with both log-softmaxes in place.</summary>
    private void Combine(LogitBatch logits, LogitBatch unconditional)
    {
        logits.Kernels.LogSoftmax(logits, logits);
        unconditional.Kernels.LogSoftmax(unconditional, unconditional);
        logits.Kernels.Affine((float)(1.0 - Scale), unconditional, (float)Scale, logits, 0f, null, logits);
    }

    /// <summary>
    /// Rows with <c>-∞</c>: list per row the ids where <c>z = -∞</c> (C) and where <c>z_uncond = -∞</c> (U), set
    /// them to 0 around the combination, then write <c>-∞</c> at C and <c>c_i</c> at U \ C.
    /// </summary>
    private void CombineWithInfinities(LogitBatch logits, LogitBatch unconditional, bool[] conditionalRemoved, bool[] unconditionalRemoved)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        var row = LogitProcessorBuffers.RentFloats(vocab);
        var conditionalIds = LogitProcessorBuffers.RentInts(rows * vocab);
        var unconditionalIds = LogitProcessorBuffers.RentInts(rows * vocab);
        var conditionalCounts = LogitProcessorBuffers.RentInts(rows);
        var unconditionalCounts = LogitProcessorBuffers.RentInts(rows);
        var emptyUnconditional = LogitProcessorBuffers.RentInts(rows);
        try
        {
            int conditionalWidth = 0;
            int unconditionalWidth = 0;
            bool anyEmpty = false;
            for (int r = 0; r < rows; r++)
            {
                conditionalCounts[r] = 0;
                unconditionalCounts[r] = 0;
                if (conditionalRemoved[r])
                {
                    logits.CopyRowTo(r, row);
                    conditionalCounts[r] = ListNegativeInfinity(row.AsSpan(0, vocab), conditionalIds.AsSpan(r * vocab, vocab));
                }

                emptyUnconditional[r] = -1;
                if (unconditionalRemoved[r])
                {
                    unconditional.CopyRowTo(r, row);
                    unconditionalCounts[r] = ListNegativeInfinity(row.AsSpan(0, vocab), unconditionalIds.AsSpan(r * vocab, vocab));
                    if (unconditionalCounts[r] == vocab)
                    {
                        // Log-softmax needs one finite entry; token 0 is overwritten below like every U id.
                        emptyUnconditional[r] = 0;
                        anyEmpty = true;
                    }
                }

                conditionalWidth = Math.Max(conditionalWidth, conditionalCounts[r]);
                unconditionalWidth = Math.Max(unconditionalWidth, unconditionalCounts[r]);
            }

            if (anyEmpty)
            {
                var zeros = LogitProcessorBuffers.RentFloats(rows);
                try
                {
                    zeros.AsSpan(0, rows).Clear();
                    unconditional.Kernels.Scatter(unconditional, emptyUnconditional.AsSpan(0, rows), zeros.AsSpan(0, rows));
                }
                finally
                {
                    LogitProcessorBuffers.Return(zeros);
                }
            }

            logits.Kernels.LogSoftmax(logits, logits);
            unconditional.Kernels.LogSoftmax(unconditional, unconditional);

            // Final values: -inf at C, c_i at U \ C (gathered now, before c is touched).
            int width = conditionalWidth + unconditionalWidth;
            var finalIds = LogitProcessorBuffers.RentInts(rows * width);
            var finalValues = LogitProcessorBuffers.RentFloats(rows * width);
            try
            {
                Pack(conditionalIds, conditionalCounts, vocab, rows, conditionalWidth, finalIds, width, 0, null, null);
                Pack(unconditionalIds, unconditionalCounts, vocab, rows, unconditionalWidth, finalIds, width, conditionalWidth, conditionalIds, conditionalCounts);
                logits.Kernels.Gather(logits, finalIds.AsSpan(0, rows * width), finalValues.AsSpan(0, rows * width));
                for (int r = 0; r < rows; r++)
                {
                    finalValues.AsSpan(r * width, conditionalWidth).Fill(float.NegativeInfinity);
                }

                // Neutral finite values where either side is -inf, so the combination never sees ∞ − ∞ or -∞·(negative).
                ZeroAt(logits, conditionalIds, conditionalCounts, vocab, conditionalWidth);
                ZeroAt(unconditional, unconditionalIds, unconditionalCounts, vocab, unconditionalWidth);
                logits.Kernels.Affine((float)(1.0 - Scale), unconditional, (float)Scale, logits, 0f, null, logits);
                logits.Kernels.Scatter(logits, finalIds.AsSpan(0, rows * width), finalValues.AsSpan(0, rows * width));
            }
            finally
            {
                LogitProcessorBuffers.Return(finalIds);
                LogitProcessorBuffers.Return(finalValues);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
            LogitProcessorBuffers.Return(conditionalIds);
            LogitProcessorBuffers.Return(unconditionalIds);
            LogitProcessorBuffers.Return(conditionalCounts);
            LogitProcessorBuffers.Return(unconditionalCounts);
            LogitProcessorBuffers.Return(emptyUnconditional);
        }
    }

    private static int ListNegativeInfinity(ReadOnlySpan<float> row, Span<int> ids)
    {
        int count = 0;
        for (int i = 0; i < row.Length; i++)
        {
            if (float.IsNegativeInfinity(row[i]))
            {
                ids[count++] = i;
            }
        }

        return count;
    }

    /// <summary>
    /// Copies each row's listed ids (stride <paramref name="vocab"/>) into columns
    /// <c>[offset, offset + columns)</c> of a padded <c>rows × width</c> layout; ids also listed in
    /// <paramref name="exclude"/> (sorted per row, <paramref name="excludeCounts"/> of them) become padding.
    /// </summary>
    private static void Pack(int[] ids, int[] counts, int vocab, int rows, int columns, int[] destination, int width, int offset, int[]? exclude, int[]? excludeCounts)
    {
        for (int r = 0; r < rows; r++)
        {
            var target = destination.AsSpan((r * width) + offset, columns);
            target.Fill(-1);
            var excluded = exclude is null ? ReadOnlySpan<int>.Empty : exclude.AsSpan(r * vocab, excludeCounts![r]);
            for (int j = 0; j < counts[r]; j++)
            {
                int id = ids[(r * vocab) + j];
                target[j] = excluded.BinarySearch(id) >= 0 ? -1 : id;
            }
        }
    }

    private static void ZeroAt(LogitBatch batch, int[] ids, int[] counts, int vocab, int width)
    {
        if (width == 0)
        {
            return;
        }

        int rows = batch.Rows;
        var packed = LogitProcessorBuffers.RentInts(rows * width);
        var zeros = LogitProcessorBuffers.RentFloats(rows * width);
        try
        {
            Pack(ids, counts, vocab, rows, width, packed, width, 0, null, null);
            zeros.AsSpan(0, rows * width).Clear();
            batch.Kernels.Scatter(batch, packed.AsSpan(0, rows * width), zeros.AsSpan(0, rows * width));
        }
        finally
        {
            LogitProcessorBuffers.Return(packed);
            LogitProcessorBuffers.Return(zeros);
        }
    }
}

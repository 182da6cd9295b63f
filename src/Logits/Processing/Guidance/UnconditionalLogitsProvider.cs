
namespace Logits.Processing.Guidance;

/// <summary>Returns the unconditional logits of one row (length <c>V</c>), the per-row form of the provider (docs/algorithms/guidance.md#classifier-free-guidance).</summary>
/// <param name="row">The row index.</param>
/// <param name="context">The row's context.</param>
/// <returns>Exactly <c>V</c> values, finite or <c>-∞</c>; read before the next row is requested.</returns>
public delegate ReadOnlySpan<float> UnconditionalRowLogits(int row, SamplingContext context);

/// <summary>Factories for <see cref="IUnconditionalLogitsProvider"/>.</summary>
public static class UnconditionalLogitsProvider
{
    /// <summary>A provider that asks <paramref name="rowLogits"/> for each row and copies the rows into the batch.</summary>
    /// <param name="rowLogits">Returns the unconditional logits of one row.</param>
    /// <returns>The provider.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rowLogits"/> is null.</exception>
    public static IUnconditionalLogitsProvider FromRows(UnconditionalRowLogits rowLogits)
    {
        ArgumentNullException.ThrowIfNull(rowLogits);
        return new RowProvider(rowLogits);
    }

    private sealed class RowProvider : IUnconditionalLogitsProvider
    {
        private readonly UnconditionalRowLogits _rowLogits;

        public RowProvider(UnconditionalRowLogits rowLogits) => _rowLogits = rowLogits;

        public void GetUnconditionalLogits(IReadOnlyList<SamplingContext> contexts, LogitBatch destination)
        {
            int rows = destination.Rows;
            int vocab = destination.Vocab;
            var buffer = LogitProcessorBuffers.RentFloats(rows * vocab);
            try
            {
                for (int r = 0; r < rows; r++)
                {
                    var row = _rowLogits(r, contexts[r]);
                    if (row.Length != vocab)
                    {
                        throw new InvalidOperationException($"The unconditional logits of row {r} have {row.Length} values but the vocabulary size is {vocab}.");
                    }

                    row.CopyTo(buffer.AsSpan(r * vocab, vocab));
                }

                destination.CopyFrom(buffer.AsSpan(0, rows * vocab));
            }
            finally
            {
                LogitProcessorBuffers.Return(buffer);
            }
        }
    }
}

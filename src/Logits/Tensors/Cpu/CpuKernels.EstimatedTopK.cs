using Logits.Selection;

namespace Logits.Tensors.Cpu;

internal sealed partial class CpuKernels
{
    /// <inheritdoc />
    /// <remarks>Row by row on the host: a checking pass, the cutoff of <c>MirostatV1Selector.Cutoff</c>, then the kept-set draw.</remarks>
    public void SampleEstimatedTopK(LogitBatch x, ReadOnlySpan<double> mu, int m, int nVocab, ReadOnlySpan<double> uniforms, Span<int> destination, Span<double> probabilities)
    {
        var source = AsCpu(x, nameof(x));
        ValidateEstimatedTopK(source.Rows, mu, m, nVocab, uniforms, destination.Length, probabilities.Length);
        var data = source.Storage.Span;
        var scratch = ArrayPool<float>.Shared.Rent(source.Vocab);
        try
        {
            for (int r = 0; r < source.Rows; r++)
            {
                var row = data.Slice(r * source.Vocab, source.Vocab);
                MirostatMath.CheckRow(row, r, "mirostat");
                float cutoff = MirostatV1Selector.Cutoff(row, mu[r], m, nVocab, scratch, out _);
                destination[r] = DrawAtOrAbove(row, cutoff, uniforms[r], out probabilities[r]);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>The argument checks of <see cref="SampleEstimatedTopK"/> (shared with the torch backend).</summary>
    internal static void ValidateEstimatedTopK(int rows, ReadOnlySpan<double> mu, int m, int nVocab, ReadOnlySpan<double> uniforms, int destinationLength, int probabilitiesLength)
    {
        if (m < 2)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(m), m, "must be at least 2");
        }

        if (nVocab < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(nVocab), nVocab, "must be at least 1");
        }

        EnsurePerRow(rows, mu.Length, nameof(mu));
        EnsurePerRow(rows, uniforms.Length, nameof(uniforms));
        EnsurePerRow(rows, destinationLength, "destination");
        EnsurePerRow(rows, probabilitiesLength, "probabilities");
        for (int r = 0; r < rows; r++)
        {
            if (double.IsNaN(mu[r]))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mu), mu[r], $"must not be NaN (row {r})");
            }

            if (!(uniforms[r] >= 0 && uniforms[r] < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(uniforms), uniforms[r], $"must be in [0, 1) (row {r})");
            }
        }
    }
}

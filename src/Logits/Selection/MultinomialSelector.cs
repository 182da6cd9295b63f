using Logits.Randomness;

namespace Logits.Selection;

/// <summary>Seeded multinomial sampling from <c>softmax(z)</c> by inverse CDF, one uniform per row per call.</summary>
/// <remarks>
/// Rule (docs/algorithms/selection.md#multinomial): with <c>w_i = exp(z_i - m)</c> and <c>S = Σw</c>, return the smallest id
/// with <c>u·S &lt; C_i</c>, <c>C</c> in float64, scanning ascending ids; never a token with <c>w = 0</c>. No sort
/// and no normalised probability array. Row <c>r</c> draws from xoshiro256** seeded <c>Seed + r</c>, so the
/// same seed gives the same tokens whatever the thread count. Stateful (the stream positions): not
/// thread-safe; <see cref="SeededSelector.Clone"/> copies the positions.
/// </remarks>
public sealed class MultinomialSelector : SeededSelector
{
    private double[] _uniforms = Array.Empty<double>();

    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    public MultinomialSelector(ulong seed)
        : base(seed)
    {
    }

    /// <inheritdoc />
    public override string Name => "multinomial";

    /// <inheritdoc />
    private protected override void SelectCore(LogitBatch logits, Span<int> destination)
    {
        int rows = logits.Rows;
        int first = logits.RowOffset;
        EnsureBuffers(first + rows);
        for (int r = 0; r < rows; r++)
        {
            _uniforms[first + r] = Stream(first + r).NextDouble();
        }

        logits.Kernels.Sample(logits, _uniforms.AsSpan(first, rows), destination[..rows]);
    }

    /// <inheritdoc />
    private protected override void EnsureBuffers(int rows)
    {
        if (_uniforms.Length < rows)
        {
            _uniforms = new double[rows];
        }
    }

    /// <inheritdoc />
    private protected override SeededSelector CreateCopy() => new MultinomialSelector(Seed);
}

using System;
using System.Collections.Generic;
using Logits.Processing;
using Logits.Randomness;
using Logits.Tensors;

namespace Logits.Selection;

/// <summary>Seeded multinomial sampling from <c>softmax(z)</c> by inverse CDF, one uniform per row per call.</summary>
/// <remarks>
/// Rule (docs/algorithms/selection.md#multinomial): with <c>w_i = exp(z_i - m)</c> and <c>S = Σw</c>, return the smallest id
/// with <c>u·S &lt; C_i</c>, <c>C</c> in float64, scanning ascending ids; never a token with <c>w = 0</c>. No sort
/// and no normalised probability array. Row <c>r</c> draws from xoshiro256** seeded <c>Seed + r</c>, so the
/// same seed gives the same tokens whatever the thread count. Stateful (the stream positions): not
/// thread-safe; <see cref="Clone"/> copies the positions.
/// </remarks>
public sealed class MultinomialSelector : ITokenSelector, IStatefulSampler
{
    private Xoshiro256StarStar[] _streams = Array.Empty<Xoshiro256StarStar>();
    private double[] _uniforms = Array.Empty<double>();

    /// <summary>Creates the selector.</summary>
    /// <param name="seed">The batch seed; row <c>r</c> uses <c>seed + r</c>.</param>
    public MultinomialSelector(ulong seed) => Seed = seed;

    /// <summary>The batch seed.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public string Name => "multinomial";

    /// <inheritdoc />
    public void SelectTokens(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, Span<int> destination)
    {
        SelectorGuards.Validate(logits, contexts, destination);
        int rows = logits.Rows;
        SelectorGuards.EnsureStreams(ref _streams, Seed, rows);
        if (_uniforms.Length < rows)
        {
            _uniforms = new double[rows];
        }

        for (int r = 0; r < rows; r++)
        {
            _uniforms[r] = _streams[r].NextDouble();
        }

        logits.Kernels.Sample(logits, _uniforms.AsSpan(0, rows), destination[..rows]);
    }

    /// <inheritdoc />
    public void Accept(int row, int token)
    {
    }

    /// <inheritdoc />
    public void Reset() => _streams = Array.Empty<Xoshiro256StarStar>();

    /// <inheritdoc />
    public IStatefulSampler Clone()
    {
        return new MultinomialSelector(Seed) { _streams = SelectorGuards.CloneStreams(_streams) };
    }
}

using System;
using System.Collections.Generic;
using Logits.Randomness;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>XTC, "Exclude Top Choices": with some probability, removes every likely token except the least likely of them.</summary>
/// <remarks>
/// <para>Rule (docs/algorithms/truncation.md#xtc; text-generation-webui PR #6335, llama.cpp PR #9742), per row and call:</para>
/// <list type="number">
/// <item>If <c>Probability &gt; 0</c>, draw <c>u ∈ [0, 1)</c> on every call, whatever the row holds, so the streams
/// stay aligned; act only if <c>u &lt; Probability</c>. <c>Probability = 0</c> never acts and draws nothing;
/// <c>1</c> always acts. Row <c>r</c> draws from xoshiro256** seeded <c>Seed + r</c> (docs/algorithms/selection.md#random-streams), a stream separate
/// from the selector's.</item>
/// <item><c>A = {i ∈ F : p_i ≥ Threshold}</c> (float64 probabilities). If <c>|A| ≥ 2</c>, remove every token of
/// <c>A</c> whose probability is strictly greater than <c>min_A p</c>; the least likely qualifier and its exact
/// ties survive.</item>
/// <item>Skip the removal if fewer than <c>minTokensToKeep</c> finite tokens would remain, or if it would remove
/// a protected token (the original exempts newline and EOS this way).</item>
/// </list>
/// <para>A <c>Threshold</c> above 0.5 is a documented no-op (at most one token can exceed 0.5). Library decision:
/// <c>A</c> holds finite tokens only, so <c>Threshold = 0</c> never counts filtered tokens. Not argmax-invariant
/// (removing the top choices is the point). Stateful: <see cref="Reset"/> reseeds, <see cref="Clone"/> copies
/// the stream positions.</para>
/// </remarks>
public sealed class XtcProcessor : LogitProcessor, IStatefulSampler
{
    private readonly int[] _protectedTokens;
    private Xoshiro256StarStar[] _streams = Array.Empty<Xoshiro256StarStar>();

    /// <summary>Creates the processor.</summary>
    /// <param name="probability">The chance to act per row and call, in <c>[0, 1]</c>, for every row or per row.</param>
    /// <param name="threshold">The probability a token needs to count as a top choice, in <c>[0, 1]</c>, for every row or per row.</param>
    /// <param name="seed">The batch seed of the XTC streams; row <c>r</c> uses <c>seed + r</c>.</param>
    /// <param name="minTokensToKeep">At least 1: the removal is skipped if fewer tokens would remain.</param>
    /// <param name="protectedTokens">Tokens XTC never removes (typically newline and EOS); ids ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A probability or threshold is outside <c>[0, 1]</c> or NaN, or
    /// <paramref name="minTokensToKeep"/> is below 1.</exception>
    /// <exception cref="ArgumentException">A protected id is negative.</exception>
    public XtcProcessor(PerRow<double> probability, PerRow<double> threshold, ulong seed, int minTokensToKeep = 1, IEnumerable<int>? protectedTokens = null)
    {
        foreach (double value in probability.Values())
        {
            if (!(value >= 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(probability), value, "must be in [0, 1]");
            }
        }

        foreach (double value in threshold.Values())
        {
            if (!(value >= 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(threshold), value, "must be in [0, 1] (values above 0.5 are a no-op)");
            }
        }

        var ids = protectedTokens is null ? new List<int>() : new List<int>(protectedTokens);
        foreach (int id in ids)
        {
            if (id < 0)
            {
                ThrowHelper.ThrowArgument(nameof(protectedTokens), $"holds the negative id {id}.");
            }
        }

        ids.Sort();
        Probability = probability;
        Threshold = threshold;
        Seed = seed;
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
        _protectedTokens = ids.ToArray();
    }

    private XtcProcessor(XtcProcessor source)
    {
        Probability = source.Probability;
        Threshold = source.Threshold;
        Seed = source.Seed;
        MinTokensToKeep = source.MinTokensToKeep;
        _protectedTokens = source._protectedTokens;
        _streams = new Xoshiro256StarStar[source._streams.Length];
        for (int r = 0; r < _streams.Length; r++)
        {
            _streams[r] = (Xoshiro256StarStar)source._streams[r].Clone();
        }
    }

    /// <summary>The chance to act per row and call.</summary>
    public PerRow<double> Probability { get; }

    /// <summary>The probability a token needs to count as a top choice.</summary>
    public PerRow<double> Threshold { get; }

    /// <summary>The batch seed of the XTC streams.</summary>
    public ulong Seed { get; }

    /// <summary>The minimum number of finite tokens the removal must leave.</summary>
    public int MinTokensToKeep { get; }

    /// <summary>Tokens XTC never removes, ascending.</summary>
    public IReadOnlyList<int> ProtectedTokens => _protectedTokens;

    /// <inheritdoc />
    public override string Name => "xtc";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    protected override void EnsureRows(int rows)
    {
        Probability.EnsureRows(rows, Name);
        Threshold.EnsureRows(rows, Name);
    }

    /// <inheritdoc />
    public void Accept(int row, int token)
    {
    }

    /// <inheritdoc />
    public void Reset() => _streams = Array.Empty<Xoshiro256StarStar>();

    /// <inheritdoc />
    public IStatefulSampler Clone() => new XtcProcessor(this);

    /// <summary>The stream of <paramref name="row"/> at its current position (tests check that probability 0 draws nothing).</summary>
    internal Xoshiro256StarStar StreamOf(int row)
    {
        EnsureStreams(row + 1);
        return _streams[row];
    }

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        foreach (int id in _protectedTokens)
        {
            if (id >= vocab)
            {
                ThrowHelper.ThrowArgumentOutOfRange("protectedTokens", id, $"must be below the vocabulary size {vocab}");
            }
        }

        EnsureStreams(rows);
        var row = LogitProcessorBuffers.RentFloats(vocab);
        var upper = LogitProcessorBuffers.RentFloats(rows);
        var removed = LogitProcessorBuffers.RentInts(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                upper[r] = float.PositiveInfinity;
                removed[r] = 0;
                double probability = Probability.For(r);
                if (!(probability > 0))
                {
                    continue;
                }

                // Drawn before anything else, on every call, so the stream position depends only on the call count.
                double u = _streams[r].NextDouble();
                if (!(u < probability))
                {
                    continue;
                }

                var z = row.AsSpan(0, vocab);
                logits.CopyRowTo(r, z);
                (upper[r], removed[r]) = Cut(z, Threshold.For(r));
            }

            MaskAbove.Apply(logits, upper.AsSpan(0, rows), removed.AsSpan(0, rows));
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
            LogitProcessorBuffers.Return(upper);
            LogitProcessorBuffers.Return(removed);
        }
    }

    /// <summary>The bound above which one row's tokens are removed, and how many (0 when XTC does not apply).</summary>
    private (float Upper, int Removed) Cut(ReadOnlySpan<float> z, double threshold)
    {
        const float Nothing = float.PositiveInfinity;
        double lse = HostRowMath.LogSumExp(z, out int finite, out _);
        int qualifiers = 0;
        double minQualifier = double.PositiveInfinity;
        foreach (float value in z)
        {
            double p = Math.Exp(value - lse);
            if (!float.IsNegativeInfinity(value) && p >= threshold)
            {
                qualifiers++;
                minQualifier = Math.Min(minQualifier, p);
            }
        }

        if (qualifiers < 2)
        {
            return (Nothing, 0);
        }

        // Removed: the qualifiers strictly more likely than the least likely one. p is monotone in z, so the
        // removed set is every token above the largest survivor.
        int removed = 0;
        float upper = float.NegativeInfinity;
        foreach (float value in z)
        {
            if (float.IsNegativeInfinity(value))
            {
                continue;
            }

            if (Math.Exp(value - lse) > minQualifier)
            {
                removed++;
            }
            else
            {
                upper = Math.Max(upper, value);
            }
        }

        if (removed == 0 || finite - removed < MinTokensToKeep)
        {
            return (Nothing, 0);
        }

        foreach (int id in _protectedTokens)
        {
            if (z[id] > upper)
            {
                return (Nothing, 0);
            }
        }

        return (upper, removed);
    }

    private void EnsureStreams(int rows)
    {
        if (_streams.Length >= rows)
        {
            return;
        }

        int start = _streams.Length;
        Array.Resize(ref _streams, rows);
        for (int r = start; r < rows; r++)
        {
            _streams[r] = Xoshiro256StarStar.ForRow(Seed, r);
        }
    }
}

using Logits.Processing.Constraints;
using Logits.Randomness;

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
        Probability = PerRowParameter(probability);
        Threshold = PerRowParameter(threshold);
        Seed = seed;
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
        _protectedTokens = ids.ToArray();
    }

    private XtcProcessor(XtcProcessor source)
    {
        Probability = PerRowParameter(source.Probability);
        Threshold = PerRowParameter(source.Threshold);
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

    /// <summary>The empty-row guard only: <c>rowMax</c> is not read, so a device backend keeps the guard on its device.</summary>
    private protected override bool ReadsRowMaxima => false;

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
        var acting = TokenIdSets.RentFlags(rows);
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            acting[r] = false;
            double probability = Probability.For(r);
            if (!(probability > 0))
            {
                continue;
            }

            // Drawn before anything else, on every call, so the stream position depends only on the call count.
            acting[r] = _streams[r].NextDouble() < probability;
            any |= acting[r];
        }

        try
        {
            if (any)
            {
                Cut(logits, acting);
            }
        }
        finally
        {
            TokenIdSets.Return(acting);
        }
    }

    /// <summary>
    /// The removal on the acting rows: the log-sum-exp and finite count of each row, then its largest values, which
    /// hold every qualifier (at most <c>1/Threshold</c> tokens have <c>p ≥ Threshold</c>), then one band mask.
    /// </summary>
    private void Cut(LogitBatch logits, bool[] acting)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        var statistics = System.Buffers.ArrayPool<LogitRowStatistics>.Shared.Rent(rows);
        var lower = LogitProcessorBuffers.RentFloats(rows);
        var upper = LogitProcessorBuffers.RentFloats(rows);
        float[]? largest = null;
        float[]? protectedValues = null;
        int[]? protectedIds = null;
        try
        {
            logits.Kernels.RowStatistics(logits, RowStatisticKinds.LogSumExp, statistics.AsSpan(0, rows));
            double smallestThreshold = 1;
            for (int r = 0; r < rows; r++)
            {
                if (acting[r])
                {
                    smallestThreshold = Math.Min(smallestThreshold, Threshold.For(r));
                }
            }

            int count = smallestThreshold > 0 ? (int)Math.Min(vocab, Math.Floor(1 / smallestThreshold) + 2) : vocab;
            largest = LogitProcessorBuffers.RentFloats(rows * count);
            logits.Kernels.LargestValues(logits, count, largest.AsSpan(0, rows * count));
            int width = _protectedTokens.Length;
            if (width > 0)
            {
                protectedIds = LogitProcessorBuffers.RentInts(rows * width);
                protectedValues = LogitProcessorBuffers.RentFloats(rows * width);
                for (int r = 0; r < rows; r++)
                {
                    _protectedTokens.CopyTo(protectedIds.AsSpan(r * width, width));
                }

                logits.Kernels.Gather(logits, protectedIds.AsSpan(0, rows * width), protectedValues.AsSpan(0, rows * width));
            }

            bool anyCut = false;
            for (int r = 0; r < rows; r++)
            {
                lower[r] = float.NegativeInfinity;
                upper[r] = float.PositiveInfinity;
                if (!acting[r])
                {
                    continue;
                }

                var protectedRow = protectedValues is null ? ReadOnlySpan<float>.Empty : protectedValues.AsSpan(r * width, width);
                float cut = Upper(largest.AsSpan(r * count, count), statistics[r], Threshold.For(r), protectedRow, vocab);
                if (float.IsNaN(cut))
                {
                    // Rare (see Upper): read every value of every row and start again (Upper cannot ask twice).
                    LogitProcessorBuffers.Return(largest);
                    count = vocab;
                    largest = LogitProcessorBuffers.RentFloats(rows * count);
                    logits.Kernels.LargestValues(logits, count, largest.AsSpan(0, rows * count));
                    anyCut = false;
                    r = -1;
                    continue;
                }

                upper[r] = cut;
                anyCut |= cut != float.PositiveInfinity;
            }

            if (anyCut)
            {
                logits.Kernels.MaskOutside(logits, lower.AsSpan(0, rows), upper.AsSpan(0, rows), logits);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<LogitRowStatistics>.Shared.Return(statistics);
            LogitProcessorBuffers.Return(lower);
            LogitProcessorBuffers.Return(upper);
            if (largest is not null)
            {
                LogitProcessorBuffers.Return(largest);
            }

            if (protectedIds is not null)
            {
                LogitProcessorBuffers.Return(protectedIds);
                LogitProcessorBuffers.Return(protectedValues!);
            }
        }
    }

    /// <summary>
    /// The largest value a row keeps after the removal (<c>+∞</c>: no removal), from its largest values in descending
    /// order. Every token above it is removed: the qualifiers strictly more likely than the least likely one (p is
    /// monotone in z).
    /// </summary>
    private float Upper(ReadOnlySpan<float> largest, in LogitRowStatistics statistics, double threshold, ReadOnlySpan<float> protectedValues, int vocab)
    {
        const float Nothing = float.PositiveInfinity;
        double lse = statistics.LogSumExp;
        int qualifiers = 0;
        double minQualifier = double.PositiveInfinity;
        float leastLikely = Nothing;
        foreach (float value in largest)
        {
            double p = Math.Exp(value - lse);
            if (float.IsNegativeInfinity(value) || !(p >= threshold))
            {
                break;
            }

            qualifiers++;
            minQualifier = p;
            leastLikely = value;
        }

        if (qualifiers == largest.Length && largest.Length < vocab)
        {
            // The probabilities say at most 1/threshold + 1 tokens qualify, but at huge logits (1e30) ln S is lost in
            // rounding and tied tokens each get p = 1: look at the whole row instead.
            return float.NaN;
        }

        if (qualifiers < 2)
        {
            return Nothing;
        }

        int removed = 0;
        foreach (float value in largest[..qualifiers])
        {
            if (Math.Exp(value - lse) > minQualifier)
            {
                removed++;
            }
        }

        if (removed == 0 || statistics.Finite - removed < MinTokensToKeep)
        {
            return Nothing;
        }

        foreach (float value in protectedValues)
        {
            if (value > leastLikely)
            {
                return Nothing;
            }
        }

        return leastLikely;
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

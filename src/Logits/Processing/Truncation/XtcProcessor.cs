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
    /// <inheritdoc />
    internal override bool SupportsRowBlocks => true;

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
        : base(RowMaximaUse.None)
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
        : base(RowMaximaUse.None)
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

        int first = logits.RowOffset;
        EnsureStreams(first + rows);
        var threshold = LogitProcessorBuffers.RentDoubles(rows);
        try
        {
            bool any = false;
            for (int r = 0; r < rows; r++)
            {
                threshold[r] = double.PositiveInfinity;
                double probability = Probability.For(logits.RowOffset + r);
                if (!(probability > 0))
                {
                    continue;
                }

                // Drawn before anything else, on every call, so the stream position depends only on the call count.
                if (_streams[first + r].NextDouble() < probability)
                {
                    threshold[r] = Threshold.For(logits.RowOffset + r);
                    any = true;
                }
            }

            if (any)
            {
                // One mask: a device backend keeps the statistics and the cut on the device.
                logits.Kernels.MaskTopChoices(logits, threshold.AsSpan(0, rows), MinTokensToKeep, _protectedTokens, logits);
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(threshold);
        }
    }

    /// <inheritdoc />
    internal override void PrepareRowBlocks(int rows) => EnsureStreams(rows);

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

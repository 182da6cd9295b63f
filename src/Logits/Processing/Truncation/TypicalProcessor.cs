using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>How the typical cut compares the running mass with <see cref="TypicalProcessor.Mass"/>.</summary>
public enum TypicalBoundary
{
    /// <summary>Stop at the first count whose mass is <c>≥ Mass</c> (Hugging Face). Default.</summary>
    Inclusive,

    /// <summary>Stop at the first count whose mass is <c>&gt; Mass</c> (llama.cpp).</summary>
    Strict,
}

/// <summary>
/// Locally typical sampling: keeps the tokens whose surprisal is closest to the row's entropy, up to a
/// probability mass.
/// </summary>
/// <remarks>
/// <para>Rule (docs/algorithms/truncation.md#typical; Meister et al., "Locally Typical Sampling", arXiv 2202.00666):</para>
/// <list type="number">
/// <item>Score every finite token <c>s_i = |-ln p_i - H|</c> (<c>H</c> the entropy in nats); filtered tokens score <c>+∞</c>.</item>
/// <item>Order by <c>s</c> ascending (then id) and accumulate <c>p</c> in float64: <c>n</c> is the smallest count
/// with mass <c>≥ Mass</c> (<c>&gt; Mass</c> with <see cref="TypicalBoundary.Strict"/>); if none reaches it, <c>n = |F|</c>.</item>
/// <item><c>n ← max(n, min(minTokensToKeep, |F|))</c>: <c>minTokensToKeep</c> counts in typicality order, as in
/// Hugging Face and llama.cpp (not by value, as the other truncations do).</item>
/// <item>Keep every token with <c>s_i ≤ s_(n)</c>, so tokens tied in score stay together.</item>
/// </list>
/// <para><c>Mass = 1</c> is a no-op. Not argmax-invariant: a very confident top token is atypical and may be
/// dropped (the <c>Mass = 0.2</c> example of docs/algorithms/truncation.md#typical). Scores, entropy and the mass are float64, computed on the host
/// from a copy of each row (a full sort of the finite tokens, as in both reference projects). Because
/// <c>s</c> is a valley-shaped function of the logit, the kept set is a band of values; it is applied with
/// <c>MaskBelow</c> for the low side and a scatter of <c>-∞</c> for the (few) tokens above it.</para>
/// </remarks>
public sealed class TypicalProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="mass">The typical mass in <c>(0, 1]</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1, counted in typicality order.</param>
    /// <param name="boundary">Inclusive (HF, default) or strict (llama.cpp) comparison with the mass.</param>
    /// <exception cref="ArgumentOutOfRangeException">A mass is outside <c>(0, 1]</c> or NaN, <paramref name="boundary"/>
    /// is not defined, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public TypicalProcessor(PerRow<double> mass, int minTokensToKeep = 1, TypicalBoundary boundary = TypicalBoundary.Inclusive)
    {
        foreach (double value in mass.Values())
        {
            if (!(value > 0 && value <= 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(mass), value, "must be in (0, 1]");
            }
        }

        if (boundary is not (TypicalBoundary.Inclusive or TypicalBoundary.Strict))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(boundary), boundary, "must be Inclusive or Strict");
        }

        Mass = mass;
        Boundary = boundary;
        MinTokensToKeep = TruncationRules.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>The typical mass, for every row or per row.</summary>
    public PerRow<double> Mass { get; }

    /// <summary>How the running mass is compared with <see cref="Mass"/>.</summary>
    public TypicalBoundary Boundary { get; }

    /// <summary>The minimum number of tokens kept, counted in typicality order.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public override string Name => "typical";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => false;

    /// <inheritdoc />
    protected override void EnsureRows(int rows) => Mass.EnsureRows(rows, Name);

    /// <summary>The typicality score <c>|-ln p - H|</c>; one expression so the sort and the band agree bit for bit.</summary>
    private static double Score(float z, double lse, double entropy) => Math.Abs(-(z - lse) - entropy);

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            any |= Mass.For(r) < 1;
        }

        if (!any)
        {
            return;
        }

        var row = LogitProcessorBuffers.RentFloats(vocab);
        var scores = LogitProcessorBuffers.RentDoubles(vocab);
        var order = LogitProcessorBuffers.RentInts(vocab);
        var lower = LogitProcessorBuffers.RentFloats(rows);
        var upper = LogitProcessorBuffers.RentFloats(rows);
        var above = LogitProcessorBuffers.RentInts(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                lower[r] = float.NegativeInfinity;
                upper[r] = float.PositiveInfinity;
                above[r] = 0;
                double mass = Mass.For(r);
                if (mass >= 1)
                {
                    continue;
                }

                var z = row.AsSpan(0, vocab);
                logits.CopyRowTo(r, z);
                (lower[r], upper[r], above[r]) = Band(z, mass, scores, order);
            }

            logits.Kernels.MaskBelow(logits, lower.AsSpan(0, rows), logits);
            MaskAbove.Apply(logits, upper.AsSpan(0, rows), above.AsSpan(0, rows));
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
            LogitProcessorBuffers.Return(scores);
            LogitProcessorBuffers.Return(order);
            LogitProcessorBuffers.Return(lower);
            LogitProcessorBuffers.Return(upper);
            LogitProcessorBuffers.Return(above);
        }
    }

    /// <summary>The kept band <c>[lower, upper]</c> of one row and how many finite tokens lie above it.</summary>
    private (float Lower, float Upper, int Above) Band(ReadOnlySpan<float> z, double mass, double[] scores, int[] order)
    {
        double lse = HostRowMath.LogSumExp(z, out int finite, out _);
        double entropy = HostRowMath.Entropy(z, lse);
        int count = 0;
        for (int i = 0; i < z.Length; i++)
        {
            if (!float.IsNegativeInfinity(z[i]))
            {
                scores[count] = Score(z[i], lse, entropy);
                order[count] = i;
                count++;
            }
        }

        // Order within a score tie does not matter: the whole tie group is kept or dropped together.
        Array.Sort(scores, order, 0, count);
        int n = finite;
        double cumulative = 0;
        for (int j = 0; j < count; j++)
        {
            cumulative += Math.Exp(z[order[j]] - lse);
            if (Boundary == TypicalBoundary.Strict ? cumulative > mass : cumulative >= mass)
            {
                n = j + 1;
                break;
            }
        }

        n = Math.Max(n, Math.Min(MinTokensToKeep, finite));
        double cut = scores[n - 1];

        // s is valley-shaped in z, so {s ≤ cut} is the value band [lower, upper].
        float lower = float.PositiveInfinity;
        float upper = float.NegativeInfinity;
        for (int i = 0; i < z.Length; i++)
        {
            if (!float.IsNegativeInfinity(z[i]) && Score(z[i], lse, entropy) <= cut)
            {
                lower = Math.Min(lower, z[i]);
                upper = Math.Max(upper, z[i]);
            }
        }

        int above = 0;
        foreach (float value in z)
        {
            if (value > upper)
            {
                above++;
            }
        }

        return (lower, upper, above);
    }
}

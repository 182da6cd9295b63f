using System;
using System.Collections.Generic;
using Logits.Tensors;

namespace Logits.Processing.Truncation;

/// <summary>Eta sampling: an entropy-adaptive epsilon cut, <c>η = min(ε, √ε·e^(−H))</c>.</summary>
/// <remarks>
/// Rule (docs/algorithms/truncation.md#eta; Hewitt et al., arXiv 2210.15191; HF <c>EtaLogitsWarper</c>): with <c>H</c> the
/// row's entropy in nats, <c>η = min(ε, √ε·exp(−H))</c>; keep <c>p_i ≥ η</c>, i.e. <c>z_i ≥ lse + ln η</c>, then
/// honour <c>minTokensToKeep</c> by value. A flat (high-entropy) row gets a lower cut than plain epsilon.
/// <c>lse</c>, <c>H</c> and the threshold are float64, computed on the host from a copy of the row; the
/// threshold is rounded to float32 once. Argmax-invariant.
/// </remarks>
public sealed class EtaProcessor : LogitProcessor
{
    /// <summary>Creates the processor.</summary>
    /// <param name="epsilon">ε in <c>(0, 1)</c>, for every row or per row.</param>
    /// <param name="minTokensToKeep">At least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An ε is outside <c>(0, 1)</c> or NaN, or <paramref name="minTokensToKeep"/> is below 1.</exception>
    public EtaProcessor(PerRow<double> epsilon, int minTokensToKeep = 1)
    {
        foreach (double value in epsilon.Values())
        {
            if (!(value > 0 && value < 1))
            {
                ThrowHelper.ThrowArgumentOutOfRange(nameof(epsilon), value, "must be in (0, 1)");
            }
        }

        Epsilon = epsilon;
        MinTokensToKeep = Truncation.ValidateMinTokensToKeep(minTokensToKeep);
    }

    /// <summary>ε, for every row or per row.</summary>
    public PerRow<double> Epsilon { get; }

    /// <summary>The minimum number of tokens kept.</summary>
    public int MinTokensToKeep { get; }

    /// <inheritdoc />
    public override string Name => "eta";

    /// <inheritdoc />
    public override bool IsArgmaxInvariant => true;

    /// <inheritdoc />
    protected override void EnsureRows(int rows) => Epsilon.EnsureRows(rows, Name);

    /// <summary>η for a row of entropy <paramref name="entropy"/>.</summary>
    internal static double Eta(double epsilon, double entropy) => Math.Min(epsilon, Math.Sqrt(epsilon) * Math.Exp(-entropy));

    /// <inheritdoc />
    protected override void ProcessCore(LogitBatch logits, IReadOnlyList<SamplingContext> contexts, ReadOnlySpan<float> rowMax)
    {
        int rows = logits.Rows;
        int vocab = logits.Vocab;
        var row = LogitProcessorBuffers.RentFloats(vocab);
        var thresholds = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                var z = row.AsSpan(0, vocab);
                logits.CopyRowTo(r, z);
                double lse = HostRowMath.LogSumExp(z, out _, out _);
                double entropy = HostRowMath.Entropy(z, lse);
                // Capped at the row maximum so a cut above every token keeps the top one (m_keep = 1).
                thresholds[r] = Math.Min((float)(lse + Math.Log(Eta(Epsilon.For(r), entropy))), rowMax[r]);
            }

            Truncation.KeepAtLeastAndMask(logits, thresholds.AsSpan(0, rows), MinTokensToKeep);
        }
        finally
        {
            LogitProcessorBuffers.Return(row);
            LogitProcessorBuffers.Return(thresholds);
        }
    }
}

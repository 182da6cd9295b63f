using System.Numerics;
using Logits.Processing.Constraints;

namespace Logits.Processing.Rectification;

/// <summary>
/// Transformer Copilot's fused inference step: the Pilot's next-token logits rectified by the Copilot's
/// predicted correction, as a pure function on rows and on batches.
/// </summary>
/// <remarks>
/// <para>Zou, Ban, Li, Qi, Qiu, Yang, He, <i>Transformer Copilot: Learning from The Mistake Log in LLM
/// Fine-tuning</i>, arXiv 2505.16270 (NeurIPS 2025), Eq. 8 and Algorithm 2; official code
/// <c>jiaruzouu/TransformerCopilot</c>. Rules and decisions: docs/algorithms/paper-methods.md#fusion.</para>
/// <para><b><see cref="CopilotFusionMode.Probability"/></b> (default, Eq. 8): <c>p̂ = softmax(z)</c> over the
/// finite set <c>F = {i : z_i &gt; −∞}</c>, <c>p̃ = p̂ + λ·f^C</c>. <c>p̃</c> may be negative and need not sum
/// to 1. Library decision: greedy picks <c>argmax_F p̃</c> (ties to the lowest index); sampling uses
/// <c>q = max(p̃, 0) / Σ_F max(p̃, 0)</c>; when no entry of <c>p̃</c> on <c>F</c> is positive, <c>q</c> is
/// one-hot on <c>argmax_F p̃</c>. The written row is <c>log q</c> with <c>−∞</c> exactly where <c>q = 0</c>
/// (never a numerically computed <c>log 0</c>), so later processors (temperature, top-k, top-p) and the
/// sampler act on the fused, renormalised distribution and greedy selection over it returns
/// <c>argmax p̃</c>.</para>
/// <para><b><see cref="CopilotFusionMode.Logit"/></b> (the README's worked figure): <c>z̃ = z + λ·f^C</c>,
/// written as is; the sampler normalises.</para>
/// <para>In both modes <c>−∞</c> is sticky: a token outside <c>F</c> is <c>−∞</c> in the output whatever
/// <c>f^C</c> says, and never takes part in the argmax, the renormalising sum or the degenerate fallback. A
/// row with <c>F = ∅</c> passes through unchanged. <c>λ = 0</c> is the Pilot alone (Probability mode then
/// writes <c>logsoftmax(z)</c>). With a perfect Copilot (<c>f^C = onehot(y) − p̂</c>) and <c>λ = 1</c>,
/// <c>p̃</c> is the one-hot target.</para>
/// <para>Numerics: the probability-mode row is computed on the host in float64: max-shifted
/// log-sum-exp, <c>p̂ = exp(logsoftmax(z))</c>, the clamp after adding <c>λ·f^C</c>, and the renormalisation
/// as a log-sum-exp over the positive entries (an entry with <c>λ·f^C_i = 0</c> keeps <c>log p̂_i</c> exactly,
/// even where <c>p̂_i</c> underflows). The kernel set has no element-wise logarithm, so the batch form copies
/// rows to the host for this mode; logit mode runs on the batch's device with the <c>Affine</c> kernel.</para>
/// <para>Errors: a non-finite correction value (NaN, <c>±∞</c>) throws <see cref="InvalidLogitsException"/>
/// with stage <see cref="CorrectionStage"/>; NaN or <c>+∞</c> in the Pilot logits throws it with stage
/// <c>"input"</c>.</para>
/// </remarks>
public static class CopilotFusion
{
    /// <summary>The default rectification strength λ = 1 (the paper's worked figure).</summary>
    public const double DefaultLambda = 1.0;

    /// <summary>The error stage of a non-finite Copilot correction value.</summary>
    public const string CorrectionStage = "copilot-correction";

    /// <summary>The error stage of a fused value that overflows (logit mode).</summary>
    public const string FusionStage = "copilot-rectification";

    /// <summary>Fuses one Pilot row with its Copilot correction (the processor's output row).</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>; <c>−∞</c> marks filtered tokens.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="mode">The fusion mode.</param>
    /// <param name="destination">At least as long as <paramref name="pilotLogits"/>; receives <c>log q</c>
    /// (probability mode) or <c>z̃</c> (logit mode). May be <paramref name="pilotLogits"/> itself.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    /// <exception cref="ArgumentException">The lengths differ or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    public static void Fuse(ReadOnlySpan<float> pilotLogits, ReadOnlySpan<float> correction, double lambda, CopilotFusionMode mode, Span<float> destination)
    {
        Validate(lambda, mode);
        ValidateLengths(pilotLogits.Length, correction.Length, destination.Length);
        FuseRow(pilotLogits, correction, lambda, mode, destination, 0);
    }

    /// <summary>Fuses one Pilot row with its Copilot correction in double precision (for tests and analysis).</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>; <c>−∞</c> marks filtered tokens.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="mode">The fusion mode.</param>
    /// <param name="destination">Receives <c>log q</c> or <c>z̃</c>; may be <paramref name="pilotLogits"/> itself.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    /// <exception cref="ArgumentException">The lengths differ or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    public static void Fuse(ReadOnlySpan<double> pilotLogits, ReadOnlySpan<double> correction, double lambda, CopilotFusionMode mode, Span<double> destination)
    {
        Validate(lambda, mode);
        ValidateLengths(pilotLogits.Length, correction.Length, destination.Length);
        FuseRow(pilotLogits, correction, lambda, mode, destination, 0);
    }

    /// <summary>The raw probability-mode fusion <c>p̃ = softmax(z) + λ·f^C</c>, unclamped (for analysis).</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="destination">Receives <c>p̃</c>; 0 at tokens outside <c>F</c>, and all 0 when <c>F = ∅</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">The lengths differ or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    public static void FusedProbabilities(ReadOnlySpan<double> pilotLogits, ReadOnlySpan<double> correction, double lambda, Span<double> destination)
    {
        Validate(lambda, CopilotFusionMode.Probability);
        ValidateLengths(pilotLogits.Length, correction.Length, destination.Length);
        RawRow(pilotLogits, correction, lambda, destination);
    }

    /// <summary>The raw probability-mode fusion <c>p̃ = softmax(z) + λ·f^C</c>, unclamped (for analysis).</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="destination">Receives <c>p̃</c> (computed in float64, rounded once); 0 outside <c>F</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">The lengths differ or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    public static void FusedProbabilities(ReadOnlySpan<float> pilotLogits, ReadOnlySpan<float> correction, double lambda, Span<float> destination)
    {
        Validate(lambda, CopilotFusionMode.Probability);
        ValidateLengths(pilotLogits.Length, correction.Length, destination.Length);
        RawRow(pilotLogits, correction, lambda, destination);
    }

    /// <summary>The greedy token of the fused row: <c>argmax_F p̃</c> or <c>argmax_F z̃</c>, ties to the lowest index.</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="mode">The fusion mode.</param>
    /// <returns>The token id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    /// <exception cref="NoViableTokenException">Every Pilot logit is <c>−∞</c>.</exception>
    public static int GreedyToken(ReadOnlySpan<double> pilotLogits, ReadOnlySpan<double> correction, double lambda, CopilotFusionMode mode)
    {
        Validate(lambda, mode);
        ValidateLengths(pilotLogits.Length, correction.Length, pilotLogits.Length);
        return GreedyRow(pilotLogits, correction, lambda, mode);
    }

    /// <summary>The greedy token of the fused row: <c>argmax_F p̃</c> or <c>argmax_F z̃</c>, ties to the lowest index.</summary>
    /// <param name="pilotLogits">The Pilot logits <c>z</c>.</param>
    /// <param name="correction">The Copilot output <c>f^C</c>, same length, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="mode">The fusion mode.</param>
    /// <returns>The token id.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> or a correction value is not finite.</exception>
    /// <exception cref="NoViableTokenException">Every Pilot logit is <c>−∞</c>.</exception>
    public static int GreedyToken(ReadOnlySpan<float> pilotLogits, ReadOnlySpan<float> correction, double lambda, CopilotFusionMode mode)
    {
        Validate(lambda, mode);
        ValidateLengths(pilotLogits.Length, correction.Length, pilotLogits.Length);
        return GreedyRow(pilotLogits, correction, lambda, mode);
    }

    /// <summary>Fuses every row of a Pilot batch with the matching row of a Copilot correction batch.</summary>
    /// <param name="pilotLogits">The Pilot logits.</param>
    /// <param name="correction">The Copilot outputs <c>f^C</c>, same shape and backend, all finite.</param>
    /// <param name="lambda">The strength λ, finite and ≥ 0.</param>
    /// <param name="mode">The fusion mode.</param>
    /// <param name="destination">Receives the fused rows (same shape; may be <paramref name="pilotLogits"/>).</param>
    /// <remarks>
    /// Logit mode is one <c>Affine</c> kernel call on the batches' device (after the correction is checked
    /// with one <c>RowStatistics</c> pass). Probability mode copies both batches to pooled host buffers,
    /// fuses each row in float64 and copies the result back (the kernel set has no element-wise logarithm).
    /// </remarks>
    /// <exception cref="ArgumentNullException">A batch is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lambda"/> is negative or not finite, or <paramref name="mode"/> is undefined.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    /// <exception cref="InvalidLogitsException">A Pilot logit is NaN/<c>+∞</c> (stage <c>"input"</c>), a correction value is not
    /// finite (stage <see cref="CorrectionStage"/>), or a fused logit overflows.</exception>
    public static void Fuse(LogitBatch pilotLogits, LogitBatch correction, double lambda, CopilotFusionMode mode, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(pilotLogits);
        ArgumentNullException.ThrowIfNull(correction);
        ArgumentNullException.ThrowIfNull(destination);
        Validate(lambda, mode);
        pilotLogits.EnsureSameShape(correction, nameof(correction));
        pilotLogits.EnsureSameShape(destination, nameof(destination));
        if (mode == CopilotFusionMode.Logit)
        {
            FuseLogitBatch(pilotLogits, correction, lambda, destination);
        }
        else
        {
            FuseProbabilityBatch(pilotLogits, correction, lambda, destination);
        }
    }

    internal static void Validate(double lambda, CopilotFusionMode mode)
    {
        if (!(lambda >= 0) || !double.IsFinite(lambda))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(lambda), lambda, "must be finite and at least 0 (0 = Pilot only)");
        }

        if (mode is not (CopilotFusionMode.Probability or CopilotFusionMode.Logit))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(mode), mode, "must be Probability or Logit");
        }
    }

    private static void ValidateLengths(int pilot, int correction, int destination)
    {
        if (correction != pilot)
        {
            ThrowHelper.ThrowArgument(nameof(correction), $"has {correction} values but the Pilot row has {pilot}.");
        }

        if (destination < pilot)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination} values but {pilot} are required.");
        }
    }

    private static void FuseLogitBatch(LogitBatch pilotLogits, LogitBatch correction, double lambda, LogitBatch destination)
    {
        CheckCorrection(correction);

        // z̃ = z + λ·f^C; f^C is finite, so -inf in z stays -inf (sticky) and λ = 0 copies z.
        pilotLogits.Kernels.Affine(1f, pilotLogits, (float)lambda, correction, 0f, null, destination);
    }

    /// <summary>Rejects NaN and ±∞ in the correction with the correction stage, on the batch's device.</summary>
    private static void CheckCorrection(LogitBatch correction)
    {
        int rows = correction.Rows;
        var removed = TokenIdSets.RentFlags(rows);
        try
        {
            if (RowChecks.RemovedTokens(correction, removed.AsSpan(0, rows), CorrectionStage))
            {
                for (int r = 0; r < rows; r++)
                {
                    if (removed[r])
                    {
                        ThrowNegativeInfinity(correction, r);
                    }
                }
            }
        }
        finally
        {
            TokenIdSets.Return(removed);
        }
    }

    private static void ThrowNegativeInfinity(LogitBatch correction, int row)
    {
        var buffer = LogitProcessorBuffers.RentFloats(correction.Vocab);
        try
        {
            correction.CopyRowTo(row, buffer);
            int index = Array.IndexOf(buffer, float.NegativeInfinity, 0, correction.Vocab);
            ThrowHelper.ThrowInvalidLogits(row, index, float.NegativeInfinity, CorrectionStage);
        }
        finally
        {
            LogitProcessorBuffers.Return(buffer);
        }
    }

    private static void FuseProbabilityBatch(LogitBatch pilotLogits, LogitBatch correction, double lambda, LogitBatch destination)
    {
        int vocab = pilotLogits.Vocab;
        int length = checked((int)pilotLogits.Length);
        var z = ArrayPool<float>.Shared.Rent(length);
        var f = ArrayPool<float>.Shared.Rent(length);
        try
        {
            pilotLogits.CopyTo(z);
            correction.CopyTo(f);
            for (int r = 0; r < pilotLogits.Rows; r++)
            {
                var row = z.AsSpan(r * vocab, vocab);
                FuseRow<float>(row, f.AsSpan(r * vocab, vocab), lambda, CopilotFusionMode.Probability, row, r);
            }

            destination.CopyFrom(z.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(z);
            ArrayPool<float>.Shared.Return(f);
        }
    }

    /// <summary>Checks both rows: returns the Pilot maximum (−∞ for an empty row).</summary>
    private static double CheckRows<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> f, int row)
        where T : IBinaryFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < z.Length; i++)
        {
            double value = double.CreateTruncating(z[i]);
            if (double.IsNaN(value) || double.IsPositiveInfinity(value))
            {
                ThrowHelper.ThrowInvalidLogits(row, i, (float)value, "input");
            }

            max = Math.Max(max, value);
        }

        for (int i = 0; i < f.Length; i++)
        {
            double value = double.CreateTruncating(f[i]);
            if (!double.IsFinite(value))
            {
                ThrowHelper.ThrowInvalidLogits(row, i, (float)value, CorrectionStage);
            }
        }

        return max;
    }

    /// <summary>ln Σ_F exp(z_i − m), the log-normaliser relative to the maximum.</summary>
    private static double LogSumShifted<T>(ReadOnlySpan<T> z, double max)
        where T : IBinaryFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < z.Length; i++)
        {
            // exp(-inf) = 0: filtered tokens add nothing.
            sum += Math.Exp(double.CreateTruncating(z[i]) - max);
        }

        return Math.Log(sum);
    }

    private static void FuseRow<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> f, double lambda, CopilotFusionMode mode, Span<T> destination, int row)
        where T : IBinaryFloatingPointIeee754<T>
    {
        int vocab = z.Length;
        double max = CheckRows(z, f, row);
        if (double.IsNegativeInfinity(max))
        {
            // F = ∅ passes through unchanged; the selector reports the row.
            z.CopyTo(destination);
            return;
        }

        if (mode == CopilotFusionMode.Logit)
        {
            for (int i = 0; i < vocab; i++)
            {
                double zi = double.CreateTruncating(z[i]);
                T fused = double.IsNegativeInfinity(zi) ? T.NegativeInfinity : T.CreateTruncating(zi + (lambda * double.CreateTruncating(f[i])));
                if (T.IsPositiveInfinity(fused))
                {
                    ThrowHelper.ThrowInvalidLogits(row, i, float.PositiveInfinity, FusionStage);
                }

                destination[i] = fused;
            }

            return;
        }

        double logSum = LogSumShifted(z, max);
        var logFused = ArrayPool<double>.Shared.Rent(vocab);
        try
        {
            // Pass 1: ln p̃_i for the positive entries (−∞ for clamped and filtered ones), and argmax_F p̃.
            double bestLog = double.NegativeInfinity;
            double bestRaw = double.NegativeInfinity;
            int best = -1;
            for (int i = 0; i < vocab; i++)
            {
                double zi = double.CreateTruncating(z[i]);
                if (double.IsNegativeInfinity(zi))
                {
                    logFused[i] = double.NegativeInfinity;
                    continue;
                }

                double logP = zi - max - logSum;
                double a = lambda * double.CreateTruncating(f[i]);
                double raw = Math.Exp(logP) + a;

                // a = 0 keeps ln p̂ exactly, even where p̂ underflows (λ = 0 gives logsoftmax(z)).
                double logValue = a == 0 ? logP : (raw > 0 ? Math.Log(raw) : double.NegativeInfinity);
                logFused[i] = logValue;
                bestLog = Math.Max(bestLog, logValue);
                if (best < 0 || raw > bestRaw)
                {
                    best = i;
                    bestRaw = raw;
                }
            }

            if (double.IsNegativeInfinity(bestLog))
            {
                // No positive mass: q is one-hot on argmax_F p̃, so greedy and sampling agree.
                destination.Slice(0, vocab).Fill(T.NegativeInfinity);
                destination[best] = T.Zero;
                return;
            }

            // Pass 2: renormalise as a log-sum-exp over the positive entries (q = 0 stays exactly -inf).
            double sum = 0;
            for (int i = 0; i < vocab; i++)
            {
                sum += Math.Exp(logFused[i] - bestLog);
            }

            double logNormaliser = bestLog + Math.Log(sum);
            for (int i = 0; i < vocab; i++)
            {
                double value = logFused[i];
                destination[i] = double.IsNegativeInfinity(value) ? T.NegativeInfinity : T.CreateTruncating(value - logNormaliser);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(logFused);
        }
    }

    private static void RawRow<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> f, double lambda, Span<T> destination)
        where T : IBinaryFloatingPointIeee754<T>
    {
        double max = CheckRows(z, f, 0);
        if (double.IsNegativeInfinity(max))
        {
            destination.Slice(0, z.Length).Clear();
            return;
        }

        double logSum = LogSumShifted(z, max);
        for (int i = 0; i < z.Length; i++)
        {
            double zi = double.CreateTruncating(z[i]);
            destination[i] = double.IsNegativeInfinity(zi)
                ? T.Zero
                : T.CreateTruncating(Math.Exp(zi - max - logSum) + (lambda * double.CreateTruncating(f[i])));
        }
    }

    private static int GreedyRow<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> f, double lambda, CopilotFusionMode mode)
        where T : IBinaryFloatingPointIeee754<T>
    {
        double max = CheckRows(z, f, 0);
        if (double.IsNegativeInfinity(max))
        {
            ThrowHelper.ThrowNoViableToken(0, FusionStage);
        }

        double logSum = mode == CopilotFusionMode.Probability ? LogSumShifted(z, max) : 0;
        int best = -1;
        double bestValue = double.NegativeInfinity;
        for (int i = 0; i < z.Length; i++)
        {
            double zi = double.CreateTruncating(z[i]);
            if (double.IsNegativeInfinity(zi))
            {
                continue;
            }

            double a = lambda * double.CreateTruncating(f[i]);
            double value = mode == CopilotFusionMode.Probability ? Math.Exp(zi - max - logSum) + a : double.CreateTruncating(T.CreateTruncating(zi + a));
            if (best < 0 || value > bestValue)
            {
                best = i;
                bestValue = value;
            }
        }

        return best;
    }
}

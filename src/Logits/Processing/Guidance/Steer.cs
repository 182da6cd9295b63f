using System.Numerics;
using Logits.Processing.Constraints;

namespace Logits.Processing.Guidance;

/// <summary>
/// The STEER score <c>(1 + γ)·logsoftmax(z_ft) − γ·logsoftmax(z_base) − η·logsoftmax(z_neg)</c>: contrastive
/// expert guidance plus negative prompting, as a pure function on rows and on batches.
/// </summary>
/// <remarks>
/// <para>O'Neill, Ting, Ciucă, Miller, Bui, <i>Steering Language Generation: Harnessing Contrastive Expert
/// Guidance and Negative Prompting for Coherent and Diverse Synthetic Data Generation</i>, arXiv 2308.07645;
/// the authors' final code in <c>charlieoneill11/diverse-llm</c>. Rules and decisions: docs/algorithms/guidance.md#steer.</para>
/// <para><c>z_ft</c> is the fine-tuned (expert) model on the prefix, <c>z_base</c> its base model on the same
/// prefix, <c>z_neg</c> the expert on the negative prompt followed by the generated tokens. Each row is
/// log-softmaxed first (max-shifted), so adding a constant to any input changes nothing, and with
/// <c>γ = η = 0</c> the output is <c>logsoftmax(z_ft)</c>. The output is unnormalised log-space scores; STEER
/// never truncates or renormalises (the paper's setup follows it with top-k 10, temperature 1).</para>
/// <para>Library decisions: the final single-expression form (not the superseded two-stage form);
/// <c>γ</c> and <c>η</c> are finite and ≥ 0 (defaults 0.2 and 0.6). The coefficients sum to <c>1 − η</c>:
/// <c>η = 1</c> flattens identical rows to uniform and <c>η &gt; 1</c> reverses their ranking.</para>
/// <para><c>−∞</c> rule (the library's CFG rule), per token <c>i</c>: <c>lp_ft[i] = −∞</c> gives <c>−∞</c>
/// (sticky); otherwise <c>steer[i] = lp_ft[i] + [lp_b[i] finite]·γ·(lp_ft[i] − lp_b[i]) − [lp_neg[i] finite]·η·lp_neg[i]</c>,
/// so a <c>−∞</c> provider entry gives no guidance for that token and an all-<c>−∞</c> provider row contributes
/// nothing. An all-<c>−∞</c> expert row passes through unchanged. On batches the providers' <c>−∞</c>
/// entries are replaced before the one <c>Affine</c> kernel call (which forbids <c>−∞</c> under a negative
/// coefficient); rows without <c>−∞</c> take no extra work beyond one <c>RowStatistics</c> count of the finite entries.</para>
/// <para>Errors: NaN/<c>+∞</c> in the expert row throws <see cref="InvalidLogitsException"/> with stage
/// <c>"input"</c>; in the base or negative row, with stage <see cref="BaseStage"/> or
/// <see cref="NegativeStage"/>.</para>
/// </remarks>
public static class Steer
{
    /// <summary>The default expert-guidance strength γ = 0.2 (the authors' final pipeline).</summary>
    public const double DefaultGamma = 0.2;

    /// <summary>The default negative-prompt strength η = 0.6 (the authors' final pipeline).</summary>
    public const double DefaultEta = 0.6;

    /// <summary>The error stage of an invalid base-model logit.</summary>
    public const string BaseStage = "steer-base";

    /// <summary>The error stage of an invalid negative-prompt logit.</summary>
    public const string NegativeStage = "steer-negative";

    /// <summary>The STEER score of one row.</summary>
    /// <param name="expert">The expert logits <c>z_ft</c>.</param>
    /// <param name="baseLogits">The base-model logits <c>z_base</c>, same length; may be empty only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negative">The expert logits on the negative prompt <c>z_neg</c>, same length; may be empty only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, finite and ≥ 0.</param>
    /// <param name="eta">η, finite and ≥ 0.</param>
    /// <param name="destination">Receives the scores (at least as long as <paramref name="expert"/>; may be <paramref name="expert"/> itself).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> or <paramref name="eta"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A row has the wrong length or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A row holds NaN or <c>+∞</c>.</exception>
    public static void Combine(ReadOnlySpan<float> expert, ReadOnlySpan<float> baseLogits, ReadOnlySpan<float> negative, double gamma, double eta, Span<float> destination)
    {
        Validate(gamma, eta);
        ValidateLengths(expert.Length, baseLogits.Length, negative.Length, destination.Length, gamma, eta);
        CombineRow(expert, baseLogits, negative, gamma, eta, destination);
    }

    /// <summary>The STEER score of one row in double precision (for tests and analysis).</summary>
    /// <param name="expert">The expert logits <c>z_ft</c>.</param>
    /// <param name="baseLogits">The base-model logits; may be empty only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negative">The negative-prompt logits; may be empty only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, finite and ≥ 0.</param>
    /// <param name="eta">η, finite and ≥ 0.</param>
    /// <param name="destination">Receives the scores; may be <paramref name="expert"/> itself.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> or <paramref name="eta"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">A row has the wrong length or <paramref name="destination"/> is too short.</exception>
    /// <exception cref="InvalidLogitsException">A row holds NaN or <c>+∞</c>.</exception>
    public static void Combine(ReadOnlySpan<double> expert, ReadOnlySpan<double> baseLogits, ReadOnlySpan<double> negative, double gamma, double eta, Span<double> destination)
    {
        Validate(gamma, eta);
        ValidateLengths(expert.Length, baseLogits.Length, negative.Length, destination.Length, gamma, eta);
        CombineRow(expert, baseLogits, negative, gamma, eta, destination);
    }

    /// <summary>The STEER score of every row of a batch, on the batch's backend.</summary>
    /// <param name="expert">The expert logits <c>z_ft</c>.</param>
    /// <param name="baseLogits">The base-model logits (same shape and backend); may be null only when <paramref name="gamma"/> is 0.</param>
    /// <param name="negative">The negative-prompt logits (same shape and backend); may be null only when <paramref name="eta"/> is 0.</param>
    /// <param name="gamma">γ, finite and ≥ 0.</param>
    /// <param name="eta">η, finite and ≥ 0.</param>
    /// <param name="destination">Receives the scores (same shape; may be <paramref name="expert"/>). The provider batches are not modified.</param>
    /// <exception cref="ArgumentNullException"><paramref name="expert"/> or <paramref name="destination"/> is null, or a provider batch is null while its coefficient is positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> or <paramref name="eta"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    /// <exception cref="InvalidLogitsException">A batch holds NaN or <c>+∞</c>.</exception>
    public static void Combine(LogitBatch expert, LogitBatch? baseLogits, LogitBatch? negative, double gamma, double eta, LogitBatch destination)
    {
        ArgumentNullException.ThrowIfNull(expert);
        ArgumentNullException.ThrowIfNull(destination);
        Validate(gamma, eta);
        ValidateBatches(expert, baseLogits, negative, gamma, eta);
        expert.EnsureSameShape(destination, nameof(destination));

        int rows = expert.Rows;
        var maxima = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            bool anyEmpty = RowChecks.Maxima(expert, maxima.AsSpan(0, rows), "input");
            if (!ReferenceEquals(expert, destination) && anyEmpty)
            {
                expert.Kernels.Affine(1f, expert, 0f, null, 0f, null, destination);
                expert = destination;
            }

            if (anyEmpty)
            {
                // Empty expert rows pass through: give them a temporary finite entry, then mask them back.
                ScatterTemporaryEntry(expert, maxima.AsSpan(0, rows));
            }

            CombineCore(expert, baseLogits, false, negative, false, (float)gamma, (float)eta, destination);
            if (anyEmpty)
            {
                var thresholds = LogitProcessorBuffers.RentFloats(rows);
                try
                {
                    for (int r = 0; r < rows; r++)
                    {
                        thresholds[r] = float.IsNegativeInfinity(maxima[r]) ? float.PositiveInfinity : float.NegativeInfinity;
                    }

                    destination.Kernels.MaskBelow(destination, thresholds.AsSpan(0, rows), destination);
                }
                finally
                {
                    LogitProcessorBuffers.Return(thresholds);
                }
            }
        }
        finally
        {
            LogitProcessorBuffers.Return(maxima);
        }
    }

    internal static void Validate(double gamma, double eta)
    {
        if (!(gamma >= 0) || !double.IsFinite(gamma))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(gamma), gamma, "must be finite and at least 0");
        }

        if (!(eta >= 0) || !double.IsFinite(eta))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(eta), eta, "must be finite and at least 0 (values above 1 reverse the ranking)");
        }
    }

    private static void ValidateBatches(LogitBatch expert, LogitBatch? baseLogits, LogitBatch? negative, double gamma, double eta)
    {
        if (gamma > 0)
        {
            ArgumentNullException.ThrowIfNull(baseLogits);
            expert.EnsureSameShape(baseLogits, nameof(baseLogits));
        }

        if (eta > 0)
        {
            ArgumentNullException.ThrowIfNull(negative);
            expert.EnsureSameShape(negative, nameof(negative));
        }
    }

    private static void ValidateLengths(int expert, int baseLength, int negative, int destination, double gamma, double eta)
    {
        if (baseLength != expert && !(baseLength == 0 && gamma == 0))
        {
            ThrowHelper.ThrowArgument("baseLogits", $"has {baseLength} values but the expert row has {expert} (it may be empty only when gamma is 0).");
        }

        if (negative != expert && !(negative == 0 && eta == 0))
        {
            ThrowHelper.ThrowArgument(nameof(negative), $"has {negative} values but the expert row has {expert} (it may be empty only when eta is 0).");
        }

        if (destination < expert)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"has {destination} values but {expert} are required.");
        }
    }

    /// <summary>
    /// The STEER score of a batch whose expert rows are all non-empty. Provider batches flagged writable
    /// are overwritten (the processor owns them); others are copied before any change.
    /// </summary>
    internal static void CombineCore(LogitBatch expert, LogitBatch? baseLogits, bool baseWritable, LogitBatch? negative, bool negativeWritable, float gamma, float eta, LogitBatch destination)
    {
        var kernels = expert.Kernels;
        kernels.LogSoftmax(expert, destination);
        if (gamma == 0 && eta == 0)
        {
            return;
        }

        LogitBatch? logBase = null;
        LogitBatch? logNegative = null;
        try
        {
            if (gamma > 0)
            {
                logBase = ProviderLogSoftmax(baseLogits!, baseWritable, destination, replaceWithExpert: true, BaseStage);
            }

            if (eta > 0)
            {
                logNegative = ProviderLogSoftmax(negative!, negativeWritable, destination, replaceWithExpert: false, NegativeStage);
            }

            // steer = (1 + γ)·lp_ft − γ·lp_b − η·lp_neg, after the -inf replacements above.
            kernels.Affine(1f + gamma, destination, -gamma, logBase, -eta, logNegative, destination);
        }
        finally
        {
            if (logBase is not null && !ReferenceEquals(logBase, baseLogits))
            {
                logBase.Dispose();
            }

            if (logNegative is not null && !ReferenceEquals(logNegative, negative))
            {
                logNegative.Dispose();
            }
        }
    }

    /// <summary>
    /// Log-softmaxes a provider batch and replaces its <c>−∞</c> entries so the affine combination gives no
    /// guidance there: the base term takes <c>lp_ft</c> (so <c>lp_ft − lp_b = 0</c>), the negative term 0; where
    /// <c>lp_ft</c> itself is <c>−∞</c> the replacement is 0, which keeps the output <c>−∞</c>.
    /// </summary>
    private static LogitBatch ProviderLogSoftmax(LogitBatch provider, bool writable, LogitBatch logExpert, bool replaceWithExpert, string stage)
    {
        int rows = provider.Rows;
        var maxima = LogitProcessorBuffers.RentFloats(rows);
        var removed = TokenIdSets.RentFlags(rows);
        LogitBatch? result = writable ? provider : null;
        try
        {
            bool anyEmpty = RowChecks.Maxima(provider, maxima.AsSpan(0, rows), stage);
            result ??= provider.CreateLike();
            if (anyEmpty)
            {
                if (!ReferenceEquals(result, provider))
                {
                    provider.Kernels.Affine(1f, provider, 0f, null, 0f, null, result);
                }

                ScatterTemporaryEntry(result, maxima.AsSpan(0, rows));
                provider = result;
            }

            provider.Kernels.LogSoftmax(provider, result);
            bool anyInfinite = RowChecks.RemovedTokens(result, removed.AsSpan(0, rows), stage: null) || anyEmpty;
            if (anyInfinite)
            {
                ReplaceInfinities(result, logExpert, maxima.AsSpan(0, rows), removed.AsSpan(0, rows), replaceWithExpert);
            }

            return result;
        }
        catch
        {
            if (result is not null && !writable)
            {
                result.Dispose();
            }

            throw;
        }
        finally
        {
            LogitProcessorBuffers.Return(maxima);
            TokenIdSets.Return(removed);
        }
    }

    /// <summary>The cold path: host scan of the rows holding <c>−∞</c>, then one <c>Scatter</c>.</summary>
    private static void ReplaceInfinities(LogitBatch logProvider, LogitBatch logExpert, ReadOnlySpan<float> maxima, ReadOnlySpan<bool> removed, bool replaceWithExpert)
    {
        int rows = logProvider.Rows;
        int vocab = logProvider.Vocab;
        var providerRow = LogitProcessorBuffers.RentFloats(vocab);
        var expertRow = LogitProcessorBuffers.RentFloats(vocab);
        var counts = LogitProcessorBuffers.RentInts(rows);
        int width = 0;
        try
        {
            // Pass 1: how many replacements each row needs (the Scatter takes a fixed width per row).
            for (int r = 0; r < rows; r++)
            {
                counts[r] = 0;
                bool empty = float.IsNegativeInfinity(maxima[r]);
                if (!empty && !removed[r])
                {
                    continue;
                }

                logProvider.CopyRowTo(r, providerRow);
                int count = 0;
                for (int i = 0; i < vocab; i++)
                {
                    if (empty || float.IsNegativeInfinity(providerRow[i]))
                    {
                        count++;
                    }
                }

                counts[r] = count;
                width = Math.Max(width, count);
            }

            if (width == 0)
            {
                return;
            }

            long total = (long)rows * width;
            var ids = new int[total];
            var values = new float[total];
            Array.Fill(ids, -1);
            for (int r = 0; r < rows; r++)
            {
                if (counts[r] == 0)
                {
                    continue;
                }

                bool empty = float.IsNegativeInfinity(maxima[r]);
                logProvider.CopyRowTo(r, providerRow);
                logExpert.CopyRowTo(r, expertRow);
                int j = r * width;
                for (int i = 0; i < vocab; i++)
                {
                    if (empty || float.IsNegativeInfinity(providerRow[i]))
                    {
                        ids[j] = i;
                        float expertValue = expertRow[i];
                        values[j] = replaceWithExpert && !float.IsNegativeInfinity(expertValue) ? expertValue : 0f;
                        j++;
                    }
                }
            }

            logProvider.Kernels.Scatter(logProvider, ids, values);
        }
        finally
        {
            LogitProcessorBuffers.Return(providerRow);
            LogitProcessorBuffers.Return(expertRow);
            LogitProcessorBuffers.Return(counts);
        }
    }

    /// <summary>Sets token 0 of every all-−∞ row to 0, so the row can be log-softmaxed.</summary>
    private static void ScatterTemporaryEntry(LogitBatch x, ReadOnlySpan<float> maxima)
    {
        int rows = x.Rows;
        var ids = LogitProcessorBuffers.RentInts(rows);
        var zeros = LogitProcessorBuffers.RentFloats(rows);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                ids[r] = float.IsNegativeInfinity(maxima[r]) ? 0 : -1;
                zeros[r] = 0f;
            }

            x.Kernels.Scatter(x, ids.AsSpan(0, rows), zeros.AsSpan(0, rows));
        }
        finally
        {
            LogitProcessorBuffers.Return(ids);
            LogitProcessorBuffers.Return(zeros);
        }
    }

    private static void CombineRow<T>(ReadOnlySpan<T> expert, ReadOnlySpan<T> baseLogits, ReadOnlySpan<T> negative, double gamma, double eta, Span<T> destination)
        where T : IBinaryFloatingPointIeee754<T>
    {
        int vocab = expert.Length;
        double expertLse = LogSumExp(expert, "input");
        if (double.IsNegativeInfinity(expertLse))
        {
            expert.CopyTo(destination);
            return;
        }

        // An empty or all -inf provider row contributes nothing: its lse is -inf and every entry is skipped.
        double baseLse = gamma > 0 ? LogSumExp(baseLogits, BaseStage) : double.NegativeInfinity;
        double negativeLse = eta > 0 ? LogSumExp(negative, NegativeStage) : double.NegativeInfinity;
        for (int i = 0; i < vocab; i++)
        {
            double lpExpert = double.CreateTruncating(expert[i]) - expertLse;
            if (double.IsNegativeInfinity(lpExpert))
            {
                destination[i] = T.NegativeInfinity;
                continue;
            }

            double score = lpExpert;
            if (!double.IsNegativeInfinity(baseLse))
            {
                double lpBase = double.CreateTruncating(baseLogits[i]) - baseLse;
                if (!double.IsNegativeInfinity(lpBase))
                {
                    score += gamma * (lpExpert - lpBase);
                }
            }

            if (!double.IsNegativeInfinity(negativeLse))
            {
                double lpNegative = double.CreateTruncating(negative[i]) - negativeLse;
                if (!double.IsNegativeInfinity(lpNegative))
                {
                    score -= eta * lpNegative;
                }
            }

            destination[i] = T.CreateTruncating(score);
        }
    }

    /// <summary>Max-shifted log-sum-exp of a row in float64; −∞ for an all-−∞ row; NaN/+∞ throw under <paramref name="stage"/>.</summary>
    private static double LogSumExp<T>(ReadOnlySpan<T> row, string stage)
        where T : IBinaryFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            double value = double.CreateTruncating(row[i]);
            if (double.IsNaN(value) || double.IsPositiveInfinity(value))
            {
                ThrowHelper.ThrowInvalidLogits(0, i, (float)value, stage);
            }

            max = Math.Max(max, value);
        }

        if (double.IsNegativeInfinity(max))
        {
            return max;
        }

        double sum = 0;
        for (int i = 0; i < row.Length; i++)
        {
            sum += Math.Exp(double.CreateTruncating(row[i]) - max);
        }

        return max + Math.Log(sum);
    }
}

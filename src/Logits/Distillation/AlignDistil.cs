using System.Numerics;
using Logits.Processing;

namespace Logits.Distillation;

/// <summary>
/// AlignDistil's token-adaptive extrapolated teacher and its loss as CPU reference functions in float64
/// (docs/algorithms/paper-methods.md#aligndistil): spans for one token, and <see cref="LogitBatch"/> overloads for a batch of positions.
/// </summary>
/// <remarks>
/// <para>Source: Zhang et al., <i>AlignDistil: Token-Level Language Model Alignment as Adaptive Policy Distillation</i>,
/// arXiv 2503.02832 (ACL 2025); official code <c>songmzhang/AlignDistil</c>.</para>
/// <para>Per token, with <c>π_· = softmax(z_·)</c> max-shifted and built as <c>exp(log_softmax)</c>:</para>
/// <code>
/// D_t  = ½ Σ_v |π_dpo(v) − π_rev(v)|   (HalfL1; FullL1 drops the ½)
/// α_t  = r·D_t + ε
/// z*_t = z_dpo + α_t·(z_dpo − z_rev)
/// ℓ_t  = (β₀/α_t) · Σ_v π_θ(v)·(log π_θ(v) − log π*_t(v)),   π_θ = softmax(z_s/τ), π* = softmax(z*/τ)
/// </code>
/// <para>The other teacher forms of <see cref="AlignDistilTeacherForm"/> change <c>z*</c> and the weight. Terms whose
/// student probability underflows to 0 contribute exactly 0. Everything after reading the logits is float64 (the
/// float32 minimum, exceeded), so these functions are the references the TorchSharp loss is checked against.</para>
/// <para>Inputs must be finite: a <c>-∞</c> vocabulary mask makes <c>z_dpo − z_rev</c> undefined. This path always
/// validates and throws <see cref="ArgumentException"/>. It is a training-side and diagnostic function, not a
/// decoding processor: the paper does not evaluate the teacher as a decoding rule.</para>
/// <para>The batch overloads read each row to the host (<see cref="LogitBatch.CopyRowTo"/>), so they work on every
/// backend; the kernels are float32 and are not used for the float64 math.</para>
/// </remarks>
public static class AlignDistil
{
    /// <summary>The disagreement <c>D</c> between <c>softmax(zDpo)</c> and <c>softmax(zRev)</c> (untempered).</summary>
    /// <param name="zDpo">DPO-model logits; finite.</param>
    /// <param name="zRev">Reverse-DPO-model logits; finite, same length.</param>
    /// <param name="convention"><see cref="TvdConvention.HalfL1"/>: <c>½ Σ|Δπ|</c> in <c>[0, 1]</c>; <see cref="TvdConvention.FullL1"/>: <c>Σ|Δπ|</c>.</param>
    /// <returns><c>D</c> in float64.</returns>
    /// <exception cref="ArgumentException">The spans are empty, differ in length, or hold a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="convention"/> is not defined.</exception>
    public static double Disagreement(ReadOnlySpan<float> zDpo, ReadOnlySpan<float> zRev, TvdConvention convention) =>
        DisagreementCore(zDpo, zRev, convention);

    /// <inheritdoc cref="Disagreement(ReadOnlySpan{float}, ReadOnlySpan{float}, TvdConvention)"/>
    public static double Disagreement(ReadOnlySpan<double> zDpo, ReadOnlySpan<double> zRev, TvdConvention convention) =>
        DisagreementCore(zDpo, zRev, convention);

    /// <summary>The token-adaptive extrapolation strength <c>α = r·D + ε</c>.</summary>
    /// <param name="disagreement"><c>D</c>, finite and in <c>[0, 2]</c>.</param>
    /// <param name="options">Supplies <c>r</c> and <c>ε</c>.</param>
    /// <returns><c>α</c>, at least <c>ε &gt; 0</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="disagreement"/> is outside <c>[0, 2]</c>.</exception>
    public static double Alpha(double disagreement, AlignDistilOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(disagreement >= 0 && disagreement <= 2))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(disagreement), disagreement, "must be in [0, 2]");
        }

        return (options.Scale * disagreement) + options.Epsilon; // alpha_t = r * D_t + eps
    }

    /// <summary>The extrapolated teacher logits <c>z* = (1 + α)·zDpo − α·zRev</c>.</summary>
    /// <param name="zDpo">DPO-model logits; finite.</param>
    /// <param name="zRev">Reverse-DPO-model logits; finite, same length.</param>
    /// <param name="alpha">The extrapolation strength; finite.</param>
    /// <param name="destination">Receives <c>z*</c> (computed in float64, rounded once); may alias neither input.</param>
    /// <exception cref="ArgumentException">Length mismatch, a too-short destination, or a non-finite logit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not finite.</exception>
    public static void TeacherLogits(ReadOnlySpan<float> zDpo, ReadOnlySpan<float> zRev, double alpha, Span<float> destination)
    {
        ValidateTeacherArguments(zDpo, zRev, alpha, destination.Length);
        for (int i = 0; i < zDpo.Length; i++)
        {
            destination[i] = (float)(((1 + alpha) * zDpo[i]) - (alpha * zRev[i]));
        }
    }

    /// <inheritdoc cref="TeacherLogits(ReadOnlySpan{float}, ReadOnlySpan{float}, double, Span{float})"/>
    public static void TeacherLogits(ReadOnlySpan<double> zDpo, ReadOnlySpan<double> zRev, double alpha, Span<double> destination)
    {
        ValidateTeacherArguments(zDpo, zRev, alpha, destination.Length);
        for (int i = 0; i < zDpo.Length; i++)
        {
            destination[i] = ((1 + alpha) * zDpo[i]) - (alpha * zRev[i]);
        }
    }

    /// <summary>The loss of one response token and its intermediate quantities, in float64.</summary>
    /// <param name="zStudent">Student logits <c>z_s</c>; finite.</param>
    /// <param name="zDpo">DPO-model logits; finite, same length.</param>
    /// <param name="zSecond">The second model's logits (reverse DPO, or the reference for
    /// <see cref="AlignDistilTeacherForm.Theorem1Interpolation"/>); finite, same length; ignored (may be empty) for
    /// <see cref="AlignDistilTeacherForm.PlainTeacher"/>.</param>
    /// <param name="options">The loss parameters.</param>
    /// <returns><c>D_t</c>, <c>α_t</c>, the weight, the unweighted KL and <c>ℓ_t</c>.</returns>
    /// <exception cref="ArgumentException">Empty or mismatched spans, or a non-finite logit.</exception>
    public static AlignDistilTokenResult TokenLoss(ReadOnlySpan<float> zStudent, ReadOnlySpan<float> zDpo, ReadOnlySpan<float> zSecond, AlignDistilOptions options) =>
        TokenCore(zStudent, zDpo, zSecond, options, Span<double>.Empty);

    /// <inheritdoc cref="TokenLoss(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, AlignDistilOptions)"/>
    public static AlignDistilTokenResult TokenLoss(ReadOnlySpan<double> zStudent, ReadOnlySpan<double> zDpo, ReadOnlySpan<double> zSecond, AlignDistilOptions options) =>
        TokenCore(zStudent, zDpo, zSecond, options, Span<double>.Empty);

    /// <summary>The loss of one token and its gradient with respect to the student logits.</summary>
    /// <param name="zStudent">Student logits; finite.</param>
    /// <param name="zDpo">DPO-model logits; finite, same length.</param>
    /// <param name="zSecond">The second model's logits (see <see cref="TokenLoss(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, AlignDistilOptions)"/>).</param>
    /// <param name="options">The loss parameters.</param>
    /// <param name="gradient">Receives <c>∂ℓ_t/∂z_s = w·π_θ ⊙ (log π_θ − log π* − KL)/τ</c>; the teacher and weight are constants.</param>
    /// <returns>The token's quantities.</returns>
    /// <exception cref="ArgumentException">Empty or mismatched spans, a too-short gradient, or a non-finite logit.</exception>
    public static AlignDistilTokenResult TokenLossGradient(ReadOnlySpan<double> zStudent, ReadOnlySpan<double> zDpo, ReadOnlySpan<double> zSecond, AlignDistilOptions options, Span<double> gradient)
    {
        if (gradient.Length < zStudent.Length || gradient.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(gradient), $"has length {gradient.Length} but {zStudent.Length} is required.");
        }

        return TokenCore(zStudent, zDpo, zSecond, options, gradient);
    }

    /// <inheritdoc cref="TokenLossGradient(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, AlignDistilOptions, Span{double})"/>
    public static AlignDistilTokenResult TokenLossGradient(ReadOnlySpan<float> zStudent, ReadOnlySpan<float> zDpo, ReadOnlySpan<float> zSecond, AlignDistilOptions options, Span<double> gradient)
    {
        if (gradient.Length < zStudent.Length || gradient.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(gradient), $"has length {gradient.Length} but {zStudent.Length} is required.");
        }

        return TokenCore(zStudent, zDpo, zSecond, options, gradient);
    }

    /// <summary>
    /// Turns a token-level response mask into the position mask (docs/algorithms/paper-methods.md#reductions): logits at position <c>k</c>
    /// predict token <c>k + 1</c>, so <c>m[b, k] = response[b, k + 1]</c> and the last position of each sequence is 0.
    /// </summary>
    /// <param name="responseMask">Row-major <c>[B, S]</c>: whether each token is a response token.</param>
    /// <param name="sequenceLength"><c>S</c>, at least 1, dividing the mask length.</param>
    /// <param name="destination">Receives the <c>[B, S]</c> position mask; must not overlap the input.</param>
    /// <exception cref="ArgumentException">The lengths do not fit.</exception>
    public static void AlignResponseMask(ReadOnlySpan<bool> responseMask, int sequenceLength, Span<bool> destination)
    {
        ValidateMask(responseMask.Length, responseMask.Length, sequenceLength, nameof(responseMask));
        Require.LengthAtLeast(destination.Length, responseMask.Length, nameof(destination));

        for (int start = 0; start < responseMask.Length; start += sequenceLength)
        {
            for (int k = 0; k < sequenceLength - 1; k++)
            {
                destination[start + k] = responseMask[start + k + 1];
            }

            destination[start + sequenceLength - 1] = false;
        }
    }

    /// <summary>Reduces per-position losses over a batch of sequences (docs/algorithms/paper-methods.md#reductions).</summary>
    /// <param name="tokenLosses">Row-major <c>[B, S]</c> losses <c>ℓ_{b,t}</c>; entries where the mask is false are ignored.</param>
    /// <param name="positionMask">Row-major <c>[B, S]</c> position mask <c>m_{b,t}</c>, same length.</param>
    /// <param name="sequenceLength"><c>S</c>, at least 1, dividing the length.</param>
    /// <param name="reduction">The reduction.</param>
    /// <returns>The batch loss; 0 when no position is marked.</returns>
    /// <exception cref="ArgumentException">The lengths do not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reduction"/> is not defined.</exception>
    public static double Reduce(ReadOnlySpan<double> tokenLosses, ReadOnlySpan<bool> positionMask, int sequenceLength, AlignDistilReduction reduction)
    {
        ValidateMask(tokenLosses.Length, positionMask.Length, sequenceLength, nameof(positionMask));
        double total = 0, sequenceTotal = 0;
        long tokens = 0, sequences = 0;
        for (int start = 0; start < tokenLosses.Length; start += sequenceLength)
        {
            double sum = 0;
            int n = 0;
            for (int k = start; k < start + sequenceLength; k++)
            {
                if (positionMask[k])
                {
                    sum += tokenLosses[k];
                    n++;
                }
            }

            total += sum;
            tokens += n;
            if (n > 0)
            {
                // Sequences without response tokens are left out of the sequence means (library decision).
                sequences++;
                sequenceTotal += reduction == AlignDistilReduction.SequenceMean ? sum / n : sum;
            }
        }

        return reduction switch
        {
            AlignDistilReduction.TokenMean => tokens == 0 ? 0 : total / tokens,
            AlignDistilReduction.SequenceMean or AlignDistilReduction.SequenceSum => sequences == 0 ? 0 : sequenceTotal / sequences,
            _ => ThrowReduction(reduction),
        };
    }

    /// <summary>The per-position quantities of a batch of positions (rows), in float64.</summary>
    /// <param name="student">Student logits, one row per position; finite.</param>
    /// <param name="dpo">DPO-model logits, same shape.</param>
    /// <param name="second">The second model's logits, same shape; may be <see langword="null"/> only for
    /// <see cref="AlignDistilTeacherForm.PlainTeacher"/>.</param>
    /// <param name="options">The loss parameters.</param>
    /// <param name="destination">One result per row.</param>
    /// <exception cref="ArgumentException">Shapes differ, the destination is too short, or a logit is not finite.</exception>
    /// <exception cref="ArgumentNullException">A required batch is null.</exception>
    public static void TokenLosses(LogitBatch student, LogitBatch dpo, LogitBatch? second, AlignDistilOptions options, Span<AlignDistilTokenResult> destination)
    {
        ValidateBatches(student, dpo, second, options);
        Require.LengthAtLeast(destination.Length, student.Rows, nameof(destination));

        ForEachRow(student, dpo, second, options, ReadOnlySpan<bool>.Empty, destination);
    }

    /// <summary>The reduced AlignDistil loss of a batch of sequences, in float64.</summary>
    /// <param name="student">Student logits, row-major <c>[B·S, V]</c> (row <c>b·S + t</c> is position <c>t</c> of sequence <c>b</c>); finite.</param>
    /// <param name="dpo">DPO-model logits, same shape.</param>
    /// <param name="second">The second model's logits, same shape; may be <see langword="null"/> only for
    /// <see cref="AlignDistilTeacherForm.PlainTeacher"/>.</param>
    /// <param name="positionMask">The aligned <c>[B, S]</c> position mask (see <see cref="AlignResponseMask"/>).</param>
    /// <param name="sequenceLength"><c>S</c>, at least 1, dividing <see cref="LogitBatch.Rows"/>.</param>
    /// <param name="options">The loss parameters; <see cref="AlignDistilOptions.Reduction"/> selects the reduction.</param>
    /// <returns>The loss; 0 when no position is marked. Unmarked rows are not read.</returns>
    /// <exception cref="ArgumentException">Shapes differ, the mask does not fit, or a marked row holds a non-finite logit.</exception>
    /// <exception cref="ArgumentNullException">A required batch is null.</exception>
    public static double Loss(LogitBatch student, LogitBatch dpo, LogitBatch? second, ReadOnlySpan<bool> positionMask, int sequenceLength, AlignDistilOptions options)
    {
        ValidateBatches(student, dpo, second, options);
        ValidateMask(student.Rows, positionMask.Length, sequenceLength, nameof(positionMask));
        var results = ArrayPool<AlignDistilTokenResult>.Shared.Rent(student.Rows);
        var losses = ArrayPool<double>.Shared.Rent(student.Rows);
        try
        {
            ForEachRow(student, dpo, second, options, positionMask, results);
            for (int r = 0; r < student.Rows; r++)
            {
                losses[r] = positionMask[r] ? results[r].Loss : 0;
            }

            return Reduce(losses.AsSpan(0, student.Rows), positionMask, sequenceLength, options.Reduction);
        }
        finally
        {
            ArrayPool<AlignDistilTokenResult>.Shared.Return(results);
            ArrayPool<double>.Shared.Return(losses);
        }
    }

    private static void ForEachRow(LogitBatch student, LogitBatch dpo, LogitBatch? second, AlignDistilOptions options, ReadOnlySpan<bool> onlyRows, Span<AlignDistilTokenResult> destination)
    {
        int vocab = student.Vocab;
        var buffer = ArrayPool<float>.Shared.Rent(3 * vocab);
        try
        {
            var zs = buffer.AsSpan(0, vocab);
            var zd = buffer.AsSpan(vocab, vocab);
            var z2 = buffer.AsSpan(2 * vocab, vocab);
            for (int r = 0; r < student.Rows; r++)
            {
                if (!onlyRows.IsEmpty && !onlyRows[r])
                {
                    continue;
                }

                student.CopyRowTo(r, zs);
                dpo.CopyRowTo(r, zd);
                second?.CopyRowTo(r, z2);
                destination[r] = TokenCore<float>(zs, zd, second is null ? ReadOnlySpan<float>.Empty : z2, options, Span<double>.Empty, r);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private static AlignDistilTokenResult TokenCore<T>(ReadOnlySpan<T> zs, ReadOnlySpan<T> zd, ReadOnlySpan<T> z2, AlignDistilOptions options, Span<double> gradient, int row = -1)
        where T : unmanaged, INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        int vocab = zs.Length;
        if (vocab == 0)
        {
            ThrowHelper.ThrowArgument("zStudent", "must not be empty.");
        }

        Require.Length(zd.Length, vocab, "zDpo", "AlignDistil requires equal vocabularies");
        bool usesSecond = options.NeedsSecondModel;
        if (usesSecond)
        {
            Require.Length(z2.Length, vocab, "zSecond", "AlignDistil requires equal vocabularies");
        }

        RequireFinite(zs, "zStudent", row);
        RequireFinite(zd, "zDpo", row);
        if (usesSecond)
        {
            RequireFinite(z2, "zSecond", row);
        }

        var buffer = ArrayPool<double>.Shared.Rent(4 * vocab);
        try
        {
            var logPd = buffer.AsSpan(0, vocab);
            var logP2 = buffer.AsSpan(vocab, vocab);
            var logTeacher = buffer.AsSpan(2 * vocab, vocab);
            var logStudent = buffer.AsSpan(3 * vocab, vocab);
            double invTau = 1 / options.Temperature;

            double disagreement = double.NaN, coefficient, weight;
            switch (options.TeacherForm)
            {
                case AlignDistilTeacherForm.AdaptiveExtrapolation:
                case AlignDistilTeacherForm.AdaptiveInterpolation:
                    HostRowMath.LogSoftmax(zd, 1, logPd);
                    HostRowMath.LogSoftmax(z2, 1, logP2);
                    disagreement = L1(logPd, logP2) * (options.Convention == TvdConvention.HalfL1 ? 0.5 : 1);
                    coefficient = (options.Scale * disagreement) + options.Epsilon; // alpha_t = r * D_t + eps
                    weight = options.Beta0 / coefficient;                            // beta_t = beta0 / alpha_t
                    break;
                case AlignDistilTeacherForm.Theorem1Interpolation:
                case AlignDistilTeacherForm.FixedContrastive:
                    coefficient = options.Beta0 / options.Beta!.Value; // w = beta0 / beta
                    weight = options.Beta.Value;
                    break;
                default:
                    coefficient = 0;
                    weight = 1;
                    break;
            }

            // Teacher logits z*, then divided by tau; stored in logTeacher before the in-place log-softmax.
            for (int i = 0; i < vocab; i++)
            {
                double d = double.CreateTruncating(zd[i]);
                double teacher = options.TeacherForm switch
                {
                    AlignDistilTeacherForm.AdaptiveExtrapolation or AlignDistilTeacherForm.FixedContrastive =>
                        d + (coefficient * (d - double.CreateTruncating(z2[i]))),
                    AlignDistilTeacherForm.Theorem1Interpolation or AlignDistilTeacherForm.AdaptiveInterpolation =>
                        (coefficient * d) + ((1 - coefficient) * double.CreateTruncating(z2[i])),
                    _ => d,
                };
                logTeacher[i] = teacher * invTau;
            }

            HostRowMath.LogSoftmaxInPlace(logTeacher);
            HostRowMath.LogSoftmax(zs, invTau, logStudent);

            double kl = 0;
            for (int i = 0; i < vocab; i++)
            {
                double p = Math.Exp(logStudent[i]);
                if (p > 0)
                {
                    // A term whose student probability underflows contributes exactly 0, never 0·(−∞).
                    kl += p * (logStudent[i] - logTeacher[i]);
                }
            }

            if (!gradient.IsEmpty)
            {
                // d ell / d z_s = w * pi_theta * (log pi_theta - log pi* - KL) / tau
                for (int i = 0; i < vocab; i++)
                {
                    double p = Math.Exp(logStudent[i]);
                    gradient[i] = p > 0 ? weight * p * (logStudent[i] - logTeacher[i] - kl) * invTau : 0;
                }
            }

            return new AlignDistilTokenResult(disagreement, coefficient, weight, kl, weight * kl);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private static double DisagreementCore<T>(ReadOnlySpan<T> zDpo, ReadOnlySpan<T> zRev, TvdConvention convention)
        where T : unmanaged, INumberBase<T>
    {
        Require.Defined(convention, nameof(convention));

        if (zDpo.IsEmpty)
        {
            ThrowHelper.ThrowArgument(nameof(zDpo), "must not be empty.");
        }

        Require.Length(zRev.Length, zDpo.Length, nameof(zRev), "AlignDistil requires equal vocabularies");
        RequireFinite(zDpo, nameof(zDpo), -1);
        RequireFinite(zRev, nameof(zRev), -1);
        var buffer = ArrayPool<double>.Shared.Rent(2 * zDpo.Length);
        try
        {
            var a = buffer.AsSpan(0, zDpo.Length);
            var b = buffer.AsSpan(zDpo.Length, zDpo.Length);
            HostRowMath.LogSoftmax(zDpo, 1, a);
            HostRowMath.LogSoftmax(zRev, 1, b);
            return L1(a, b) * (convention == TvdConvention.HalfL1 ? 0.5 : 1);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
        }
    }

    private static double L1(ReadOnlySpan<double> logP, ReadOnlySpan<double> logQ)
    {
        double sum = 0;
        for (int i = 0; i < logP.Length; i++)
        {
            // Probabilities as exp(log_softmax), never exp of raw logits.
            sum += Math.Abs(Math.Exp(logP[i]) - Math.Exp(logQ[i]));
        }

        return sum;
    }

    private static void RequireFinite<T>(ReadOnlySpan<T> x, string paramName, int row)
        where T : unmanaged, INumberBase<T>
    {
        if (Require.IndexOfNonFinite(x) is int i and >= 0)
        {
            string where = row >= 0 ? $"row {row}, token {i}" : $"index {i}";
            ThrowHelper.ThrowArgument(paramName, $"holds {x[i]} at {where}; AlignDistil needs finite logits (a -inf mask makes z_dpo - z_rev undefined).");
        }
    }

    private static void ValidateTeacherArguments<T>(ReadOnlySpan<T> zDpo, ReadOnlySpan<T> zRev, double alpha, int destinationLength)
        where T : unmanaged, INumberBase<T>
    {
        Require.Finite(alpha, nameof(alpha));
        Require.Length(zRev.Length, zDpo.Length, nameof(zRev), "AlignDistil requires equal vocabularies");
        Require.LengthAtLeast(destinationLength, zDpo.Length, "destination");

        RequireFinite(zDpo, nameof(zDpo), -1);
        RequireFinite(zRev, nameof(zRev), -1);
    }

    private static void ValidateBatches(LogitBatch student, LogitBatch dpo, LogitBatch? second, AlignDistilOptions options)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(dpo);
        ArgumentNullException.ThrowIfNull(options);
        student.EnsureSameShape(dpo, nameof(dpo));
        if (options.NeedsSecondModel)
        {
            ArgumentNullException.ThrowIfNull(second);
            student.EnsureSameShape(second, nameof(second));
        }
    }

    private static void ValidateMask(int rows, int maskLength, int sequenceLength, string paramName)
    {
        Require.AtLeast(sequenceLength, 1, nameof(sequenceLength));

        if (maskLength != rows || rows % sequenceLength != 0)
        {
            ThrowHelper.ThrowArgument(paramName, $"has length {maskLength}; [B, S] with S = {sequenceLength} and B·S = {rows} is required.");
        }
    }

    private static double ThrowReduction(AlignDistilReduction reduction)
    {
        ThrowHelper.ThrowArgumentOutOfRange(nameof(reduction), reduction, "must be SequenceMean, TokenMean or SequenceSum");
        return 0;
    }
}

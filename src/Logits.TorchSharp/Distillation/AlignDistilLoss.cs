using Logits.Distillation;

namespace Logits.TorchSharp.Distillation;

/// <summary>
/// The AlignDistil training loss on torch tensors, differentiable by autograd with respect to the student logits
/// (docs/algorithms/paper-methods.md#aligndistil).
/// </summary>
/// <remarks>
/// <para>Source: Zhang et al., <i>AlignDistil: Token-Level Language Model Alignment as Adaptive Policy Distillation</i>,
/// arXiv 2503.02832 (ACL 2025); official code <c>songmzhang/AlignDistil</c>.</para>
/// <para>Per position, under <c>no_grad</c> and detached: <c>D_t = ½Σ|softmax(z_dpo) − softmax(z_rev)|</c> (or the full
/// L1 sum), <c>α_t = r·D_t + ε</c>, <c>z* = z_dpo + α_t·(z_dpo − z_rev)</c>, <c>log π* = log_softmax(z*/τ)</c> and the
/// weight <c>β₀/α_t</c>. Then, with gradient, <c>ℓ_t = w_t·Σ_v π_θ(v)(log π_θ(v) − log π*(v))</c>,
/// <c>π_θ = softmax(z_s/τ)</c>, reduced over the marked positions by <see cref="AlignDistilOptions.Reduction"/>.</para>
/// <para>Library decisions: logits are <c>[B, S, V]</c> with equal <c>V</c> for all models (slice off padded vocabulary
/// first); the math runs in float32, upcasting half precision (float64 inputs stay float64); the student and the
/// teacher are both divided by <c>τ</c>; the position mask is always the shifted one (logits at <c>k</c> predict token
/// <c>k + 1</c>); sequences without response positions are excluded and an empty batch gives 0 with zero gradient;
/// the weight is not capped. With <see cref="AlignDistilOptions.ValidateInputs"/> one all-finite reduction (one host
/// synchronisation) rejects non-finite logits with <see cref="ArgumentException"/>. Inputs are never disposed; every
/// temporary lives in a dispose scope.</para>
/// </remarks>
public sealed class AlignDistilLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="options">The parameters; <see langword="null"/> means <see cref="AlignDistilOptions.Default"/>.</param>
    public AlignDistilLoss(AlignDistilOptions? options = null)
    {
        Options = options ?? AlignDistilOptions.Default;
    }

    /// <summary>The parameters.</summary>
    public AlignDistilOptions Options { get; }

    /// <summary>The scalar loss from a token-level response mask, shifted to positions as in docs/algorithms/paper-methods.md#reductions.</summary>
    /// <param name="studentLogits">Student logits <c>[B, S, V]</c> (the only input that receives gradient).</param>
    /// <param name="dpoLogits">DPO-model logits, same shape.</param>
    /// <param name="secondLogits">Reverse-DPO logits (the reference logits for <see cref="AlignDistilTeacherForm.Theorem1Interpolation"/>),
    /// same shape; ignored and may be <see langword="null"/> for <see cref="AlignDistilTeacherForm.PlainTeacher"/>.</param>
    /// <param name="responseMask"><c>[B, S]</c>: non-zero where the token is a response token.</param>
    /// <returns>A scalar tensor (float32, or float64 for float64 students) the caller owns.</returns>
    /// <exception cref="ArgumentException">Shapes differ or (when validating) a logit is not finite.</exception>
    public Tensor Compute(Tensor studentLogits, Tensor dpoLogits, Tensor? secondLogits, Tensor responseMask)
    {
        using var scope = NewDisposeScope();
        return Run(studentLogits, dpoLogits, secondLogits, responseMask, aligned: false, diagnostics: false).Loss.MoveToOuterDisposeScope();
    }

    /// <summary>The scalar loss from an already aligned position mask (<c>m[b, k] = 1</c> when logits at <c>k</c> predict a response token).</summary>
    /// <param name="studentLogits">Student logits <c>[B, S, V]</c>.</param>
    /// <param name="dpoLogits">DPO-model logits, same shape.</param>
    /// <param name="secondLogits">The second model's logits (see <see cref="Compute"/>).</param>
    /// <param name="positionMask"><c>[B, S]</c> position mask.</param>
    /// <returns>A scalar tensor the caller owns.</returns>
    /// <exception cref="ArgumentException">Shapes differ or (when validating) a logit is not finite.</exception>
    public Tensor ComputeAligned(Tensor studentLogits, Tensor dpoLogits, Tensor? secondLogits, Tensor positionMask)
    {
        using var scope = NewDisposeScope();
        return Run(studentLogits, dpoLogits, secondLogits, positionMask, aligned: true, diagnostics: false).Loss.MoveToOuterDisposeScope();
    }

    /// <summary>The loss with the per-token diagnostics <c>D_t</c>, <c>α_t</c>, weights, unweighted KL and per-sequence losses.</summary>
    /// <param name="studentLogits">Student logits <c>[B, S, V]</c>.</param>
    /// <param name="dpoLogits">DPO-model logits, same shape.</param>
    /// <param name="secondLogits">The second model's logits (see <see cref="Compute"/>).</param>
    /// <param name="mask"><c>[B, S]</c> response mask, or position mask when <paramref name="maskIsAligned"/>.</param>
    /// <param name="maskIsAligned">Whether <paramref name="mask"/> is already a position mask.</param>
    /// <returns>The diagnostics; the caller disposes them.</returns>
    /// <exception cref="ArgumentException">Shapes differ or (when validating) a logit is not finite.</exception>
    public AlignDistilDiagnostics ComputeWithDiagnostics(Tensor studentLogits, Tensor dpoLogits, Tensor? secondLogits, Tensor mask, bool maskIsAligned = false)
    {
        using var scope = NewDisposeScope();
        var r = Run(studentLogits, dpoLogits, secondLogits, mask, maskIsAligned, diagnostics: true);
        return new AlignDistilDiagnostics(
            r.Loss.MoveToOuterDisposeScope(),
            r.Disagreement!.MoveToOuterDisposeScope(),
            r.Alpha!.MoveToOuterDisposeScope(),
            r.Weights!.MoveToOuterDisposeScope(),
            r.KL!.MoveToOuterDisposeScope(),
            r.SequenceLosses!.MoveToOuterDisposeScope(),
            r.PositionMask!.MoveToOuterDisposeScope());
    }

    /// <summary>Shifts a token-level response mask to positions: <c>m[:, k] = response[:, k + 1]</c>, last position 0.</summary>
    /// <param name="responseMask"><c>[B, S]</c>, non-zero for response tokens.</param>
    /// <returns>A <c>[B, S]</c> boolean tensor the caller owns.</returns>
    /// <exception cref="ArgumentException"><paramref name="responseMask"/> is not 2-D.</exception>
    public static Tensor AlignResponseMask(Tensor responseMask)
    {
        ArgumentNullException.ThrowIfNull(responseMask);
        if (responseMask.Dimensions != 2)
        {
            ThrowHelper.ThrowArgument(nameof(responseMask), $"has {responseMask.Dimensions} dimensions but [B, S] is required.");
        }

        using var scope = NewDisposeScope();
        var m = responseMask.ne(TorchScalars.Zero);
        long s = m.shape[1];
        var shifted = cat(new[] { m.narrow(1, 1, s - 1), zeros(new long[] { m.shape[0], 1 }, ScalarType.Bool, m.device) }, 1);
        return shifted.MoveToOuterDisposeScope();
    }

    private Result Run(Tensor student, Tensor dpo, Tensor? second, Tensor mask, bool aligned, bool diagnostics)
    {
        var o = Options;
        Validate(student, dpo, second, mask, o);
        var dtype = student.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        double invTau = 1 / o.Temperature;

        Tensor logTeacher, coefficient, weight, disagreement;
        using (no_grad())
        {
            var zd = dpo.detach().to_type(dtype);
            var z2 = o.NeedsSecondModel ? second!.detach().to_type(dtype) : zd;
            if (o.ValidateInputs)
            {
                // One all-finite reduction: one host synchronisation per call.
                var finite = isfinite(student.detach()).all().logical_and(isfinite(zd).all()).logical_and(isfinite(z2).all());
                if (!finite.item<bool>())
                {
                    ThrowHelper.ThrowArgument(nameof(student), "or another logit tensor holds NaN or ±∞; AlignDistil needs finite logits (a -inf mask makes z_dpo - z_rev undefined).");
                }
            }

            var shape = new long[] { student.shape[0], student.shape[1] };
            switch (o.TeacherForm)
            {
                case AlignDistilTeacherForm.AdaptiveExtrapolation:
                case AlignDistilTeacherForm.AdaptiveInterpolation:
                    {
                        // Probabilities as exp(log_softmax), untempered.
                        var l1 = nn.functional.log_softmax(zd, -1).exp_().sub_(nn.functional.log_softmax(z2, -1).exp_()).abs_().sum(-1);
                        disagreement = o.Convention == TvdConvention.HalfL1 ? l1.TimesInPlace(0.5) : l1;
                        coefficient = disagreement.Times(o.Scale).PlusInPlace(o.Epsilon); // alpha_t = r * D_t + eps
                        weight = coefficient.reciprocal().TimesInPlace(o.Beta0);    // beta0 / alpha_t
                        var a = coefficient.unsqueeze(-1);
                        var teacher = o.TeacherForm == AlignDistilTeacherForm.AdaptiveExtrapolation
                            ? zd.sub(z2).mul_(a).PlusInPlace(zd)             // z_dpo + alpha (z_dpo - z_rev)
                            : zd.sub(z2).mul_(a).PlusInPlace(z2);            // alpha z_dpo + (1 - alpha) z_2
                        logTeacher = nn.functional.log_softmax(teacher.TimesInPlace(invTau), -1);
                        break;
                    }

                case AlignDistilTeacherForm.Theorem1Interpolation:
                case AlignDistilTeacherForm.FixedContrastive:
                    {
                        double w = o.Beta0 / o.Beta!.Value;
                        disagreement = TorchScalars.Filled(shape, double.NaN, dtype, student.device);
                        coefficient = TorchScalars.Filled(shape, w, dtype, student.device);
                        weight = TorchScalars.Filled(shape, o.Beta.Value, dtype, student.device);
                        var teacher = o.TeacherForm == AlignDistilTeacherForm.FixedContrastive
                            ? zd.sub(z2).TimesInPlace(w).PlusInPlace(zd)
                            : zd.sub(z2).TimesInPlace(w).PlusInPlace(z2);
                        logTeacher = nn.functional.log_softmax(teacher.TimesInPlace(invTau), -1);
                        break;
                    }

                default:
                    disagreement = TorchScalars.Filled(shape, double.NaN, dtype, student.device);
                    coefficient = zeros(shape, dtype, student.device);
                    weight = ones(shape, dtype, student.device);
                    logTeacher = nn.functional.log_softmax(zd.Times(invTau), -1);
                    break;
            }
        }

        var logStudent = nn.functional.log_softmax(student.to_type(dtype).Times(invTau), -1);
        var pStudent = logStudent.exp();
        // A student probability that underflows to 0 contributes exactly 0 (no 0·(−∞)).
        // The vocabulary sum is accumulated in float64 (a float32 sum over ~10⁵ terms drifts by ~1e-5 relative).
        var kl = pStudent.mul(logStudent.sub(logTeacher)).masked_fill(pStudent.le(TorchScalars.Zero), TorchScalars.Zero).sum(-1, false, ScalarType.Float64).to_type(dtype);
        var tokenLoss = kl.mul(weight);

        var positions = aligned ? mask.ne(TorchScalars.Zero) : AlignResponseMask(mask);
        var m = positions.to_type(dtype);
        var perSequence = tokenLoss.mul(m).sum(1);
        var counts = m.sum(1);
        var hasTokens = counts.gt(TorchScalars.Zero).to_type(dtype);
        var sequenceCount = hasTokens.sum().clamp_min(TorchScalars.One);
        Tensor sequenceLosses = o.Reduction == AlignDistilReduction.SequenceSum ? perSequence : perSequence.div(counts.clamp_min(TorchScalars.One));
        Tensor loss = o.Reduction switch
        {
            AlignDistilReduction.TokenMean => perSequence.sum().div(counts.sum().clamp_min(TorchScalars.One)),
            _ => sequenceLosses.sum().div(sequenceCount),
        };

        return diagnostics
            ? new Result(loss, disagreement, coefficient, weight, kl.detach(), sequenceLosses.detach(), positions)
            : new Result(loss, null, null, null, null, null, null);
    }

    private static void Validate(Tensor student, Tensor dpo, Tensor? second, Tensor mask, AlignDistilOptions o)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(dpo);
        ArgumentNullException.ThrowIfNull(mask);
        if (student.Dimensions != 3 || student.shape[2] < 1)
        {
            ThrowHelper.ThrowArgument(nameof(student), $"has shape {Shape(student)} but [B, S, V] logits are required.");
        }

        RequireSameShape(student, dpo, "dpoLogits");
        if (o.NeedsSecondModel)
        {
            ArgumentNullException.ThrowIfNull(second, "secondLogits");
            RequireSameShape(student, second, "secondLogits");
        }

        if (mask.Dimensions != 2 || mask.shape[0] != student.shape[0] || mask.shape[1] != student.shape[1])
        {
            ThrowHelper.ThrowArgument(nameof(mask), $"has shape {Shape(mask)} but [{student.shape[0]}, {student.shape[1]}] is required.");
        }
    }

    private static void RequireSameShape(Tensor expected, Tensor actual, string paramName)
    {
        if (actual.Dimensions != expected.Dimensions || !actual.shape.AsSpan().SequenceEqual(expected.shape))
        {
            ThrowHelper.ThrowArgument(paramName, $"has shape {Shape(actual)} but {Shape(expected)} is required (identical [B, S, V]; equal vocabularies).");
        }
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    private readonly record struct Result(Tensor Loss, Tensor? Disagreement, Tensor? Alpha, Tensor? Weights, Tensor? KL, Tensor? SequenceLosses, Tensor? PositionMask);
}

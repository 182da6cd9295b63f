
namespace Logits.Distillation;

/// <summary>The immutable, validated parameters of the AlignDistil loss (docs/algorithms/paper-methods.md#parameters-and-decisions).</summary>
/// <remarks>
/// <para>Source: Zhang, Zhang, Zhang, Hu, Chen, Xu, <i>AlignDistil: Token-Level Language Model Alignment as Adaptive
/// Policy Distillation</i>, arXiv 2503.02832 (ACL 2025), and the official code <c>songmzhang/AlignDistil</c>.</para>
/// <para>Per response token: <c>D_t</c> from the untempered DPO and reverse-DPO distributions
/// (<see cref="Convention"/>), <c>α_t = r·D_t + ε</c>, teacher logits <c>z* = (1 + α_t)·z_dpo − α_t·z_rev</c>,
/// <c>π* = softmax(z*/τ)</c>, and loss <c>ℓ_t = (β₀/α_t)·KL(softmax(z_s/τ) ‖ π*)</c> (reverse KL, no <c>τ²</c>).</para>
/// <para>Library decisions: the default convention is the paper's <see cref="TvdConvention.HalfL1"/> with
/// <c>r = 20</c>, which reproduces the published off-policy strength (official code: <see cref="TvdConvention.FullL1"/>,
/// <c>r = 10</c>); the presets <see cref="PublishedOffPolicy"/> and <see cref="PublishedOnPolicy"/> carry the
/// published values verbatim. Student and teacher are both divided by <c>τ</c>. The weight <c>β₀/α_t</c> is not
/// capped: where the two DPO models agree it approaches <c>β₀/ε</c> (100 by default).</para>
/// </remarks>
public sealed class AlignDistilOptions
{
    /// <summary>Creates validated options; every argument has the documented default.</summary>
    /// <param name="beta0">β₀, the base coefficient; finite and &gt; 0. Default 0.1.</param>
    /// <param name="convention">How <c>D_t</c> is measured. Default <see cref="TvdConvention.HalfL1"/>.</param>
    /// <param name="scale">r, the extrapolation scale; finite and ≥ 0. Default 20 (whatever the convention).</param>
    /// <param name="epsilon">ε, the floor of <c>α_t</c>; finite and &gt; 0. Default 1e-3.</param>
    /// <param name="temperature">τ, the distillation temperature; finite and &gt; 0. Default 1.</param>
    /// <param name="reduction">The batch reduction. Default <see cref="AlignDistilReduction.SequenceMean"/>.</param>
    /// <param name="teacherForm">The teacher form. Default <see cref="AlignDistilTeacherForm.AdaptiveExtrapolation"/>.</param>
    /// <param name="beta">β, the RLHF coefficient; finite and &gt; 0; required by
    /// <see cref="AlignDistilTeacherForm.Theorem1Interpolation"/> and <see cref="AlignDistilTeacherForm.FixedContrastive"/>,
    /// ignored otherwise.</param>
    /// <param name="validateInputs">Whether the TorchSharp path checks that the logits are finite (one host
    /// synchronisation per call). The CPU path always validates.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message states the range).</exception>
    /// <exception cref="InvalidOperationException"><paramref name="beta"/> is missing for a teacher form that needs it.</exception>
    public AlignDistilOptions(
        double beta0 = 0.1,
        TvdConvention convention = TvdConvention.HalfL1,
        double scale = 20,
        double epsilon = 1e-3,
        double temperature = 1,
        AlignDistilReduction reduction = AlignDistilReduction.SequenceMean,
        AlignDistilTeacherForm teacherForm = AlignDistilTeacherForm.AdaptiveExtrapolation,
        double? beta = null,
        bool validateInputs = true)
    {
        Beta0 = Require.FinitePositive(beta0, nameof(beta0));
        Convention = Require.Defined(convention, nameof(convention));

        Scale = Require.FiniteNonNegative(scale, nameof(scale));
        Epsilon = Require.FinitePositive(epsilon, nameof(epsilon));
        Temperature = Require.FinitePositive(temperature, nameof(temperature));
        Reduction = Require.Defined(reduction, nameof(reduction));
        TeacherForm = Require.Defined(teacherForm, nameof(teacherForm));

        if (beta is double b && (!double.IsFinite(b) || b <= 0))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(beta), b, "must be finite and greater than 0");
        }

        if (beta is null && teacherForm is AlignDistilTeacherForm.Theorem1Interpolation or AlignDistilTeacherForm.FixedContrastive)
        {
            throw new InvalidOperationException($"The teacher form {teacherForm} needs 'beta' (β, the RLHF KL coefficient); w = β₀/β.");
        }

        Beta = beta;
        ValidateInputs = validateInputs;
    }

    /// <summary>The defaults: <see cref="TvdConvention.HalfL1"/>, r = 20, β₀ = 0.1, ε = 1e-3, τ = 1, sequence mean.</summary>
    public static AlignDistilOptions Default { get; } = new();

    /// <summary>The official off-policy script: <see cref="TvdConvention.FullL1"/>, r = 10, β₀ = 0.1, τ = 1,
    /// sequence mean (equivalent to <see cref="TvdConvention.HalfL1"/> with r = 20).</summary>
    public static AlignDistilOptions PublishedOffPolicy { get; } = new(convention: TvdConvention.FullL1, scale: 10);

    /// <summary>The official on-policy script: <see cref="TvdConvention.FullL1"/>, r = 15, β₀ = 0.1, τ = 1,
    /// sequence mean (equivalent to <see cref="TvdConvention.HalfL1"/> with r = 30).</summary>
    public static AlignDistilOptions PublishedOnPolicy { get; } = new(convention: TvdConvention.FullL1, scale: 15);

    /// <summary>β₀, the base coefficient (the DPO β in the theory).</summary>
    public double Beta0 { get; }

    /// <summary>How the disagreement <c>D_t</c> is measured.</summary>
    public TvdConvention Convention { get; }

    /// <summary>r, the extrapolation scale. Rescale by 2 when switching <see cref="Convention"/> by hand.</summary>
    public double Scale { get; }

    /// <summary>ε, the floor of <c>α_t = r·D_t + ε</c>.</summary>
    public double Epsilon { get; }

    /// <summary>τ, the distillation temperature (student and teacher are both divided by it; <c>D_t</c> is not).</summary>
    public double Temperature { get; }

    /// <summary>The batch reduction.</summary>
    public AlignDistilReduction Reduction { get; }

    /// <summary>The teacher form.</summary>
    public AlignDistilTeacherForm TeacherForm { get; }

    /// <summary>β, the RLHF KL coefficient of the fixed-weight forms, or <see langword="null"/>.</summary>
    public double? Beta { get; }

    /// <summary>Whether the TorchSharp path checks that the logits are finite.</summary>
    public bool ValidateInputs { get; }

    /// <summary>Whether the teacher form needs a second model's logits.</summary>
    public bool NeedsSecondModel => TeacherForm != AlignDistilTeacherForm.PlainTeacher;

    /// <summary>Whether the teacher form computes the disagreement <c>D_t</c> and an adaptive <c>α_t</c>.</summary>
    public bool IsAdaptive => TeacherForm is AlignDistilTeacherForm.AdaptiveExtrapolation or AlignDistilTeacherForm.AdaptiveInterpolation;

    /// <summary>Returns a copy with other values for some parameters.</summary>
    /// <param name="beta0">New β₀, or <see langword="null"/> to keep.</param>
    /// <param name="convention">New convention, or <see langword="null"/> to keep.</param>
    /// <param name="scale">New r, or <see langword="null"/> to keep.</param>
    /// <param name="epsilon">New ε, or <see langword="null"/> to keep.</param>
    /// <param name="temperature">New τ, or <see langword="null"/> to keep.</param>
    /// <param name="reduction">New reduction, or <see langword="null"/> to keep.</param>
    /// <param name="teacherForm">New teacher form, or <see langword="null"/> to keep.</param>
    /// <param name="beta">New β, or <see langword="null"/> to keep.</param>
    /// <returns>Validated options.</returns>
    public AlignDistilOptions With(
        double? beta0 = null,
        TvdConvention? convention = null,
        double? scale = null,
        double? epsilon = null,
        double? temperature = null,
        AlignDistilReduction? reduction = null,
        AlignDistilTeacherForm? teacherForm = null,
        double? beta = null) =>
        new(beta0 ?? Beta0, convention ?? Convention, scale ?? Scale, epsilon ?? Epsilon, temperature ?? Temperature,
            reduction ?? Reduction, teacherForm ?? TeacherForm, beta ?? Beta, ValidateInputs);
}

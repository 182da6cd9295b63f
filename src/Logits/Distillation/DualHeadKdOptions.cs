
namespace Logits.Distillation;

/// <summary>The immutable, validated parameters of Dual-Head Knowledge Distillation (docs/algorithms/paper-methods.md#dual-head-kd).</summary>
/// <remarks>
/// <para>Source: Yang, Zong, Huang, Feng, An, <i>Dual-Head Knowledge Distillation: Enhancing Logits Utilization with an
/// Auxiliary Head</i>, arXiv 2411.08937 (KDD 2025); official code <c>penghui-yang/DHKD</c>.</para>
/// <para>Total loss: <c>L = γ·CE(z⁰, y) + α·L_aux(z¹, z_t)</c>, with the cross-entropy on the main head only and the
/// logit-level loss (BinaryKL-Norm by default) on the auxiliary head only.</para>
/// <para>Library decisions: the implementation's normalisation (per-class terms summed, divided by <c>N</c>,
/// times <c>T²</c>); no clamp by default; CE only on the main head; α = 1 by default (CIFAR; 0.1 in
/// <see cref="ImageNet"/>); gradient alignment projects the full flattened gradients as the reference does; a
/// <see cref="AuxiliaryHeadKind.Linear"/> auxiliary head by default.</para>
/// </remarks>
public sealed class DualHeadKdOptions
{
    /// <summary>Creates validated options; every argument has the documented default.</summary>
    /// <param name="gamma">γ, the weight of the cross-entropy; finite and ≥ 0. Default 1.</param>
    /// <param name="alpha">α, the weight of the auxiliary loss; finite and ≥ 0. Default 1.</param>
    /// <param name="temperature">T of the binary losses; finite and &gt; 0. Default 2.</param>
    /// <param name="kdTemperature">T_kd of Softmax KD; finite and &gt; 0. Default 4.</param>
    /// <param name="auxiliaryLoss">The auxiliary loss. Default <see cref="DualHeadAuxiliaryLoss.BinaryKLNorm"/>.</param>
    /// <param name="clampMode">The clamp of the binary losses. Default <see cref="LogitClampMode.None"/>.</param>
    /// <param name="auxiliaryHead">The auxiliary head's architecture. Default <see cref="AuxiliaryHeadKind.Linear"/>.</param>
    /// <param name="nonLinearHiddenWidth">H of the non-linear head; at least 1. Default 200.</param>
    /// <param name="nonLinearDropout">The dropout probability of the non-linear head; in <c>[0, 1)</c>. Default 0.1.</param>
    /// <param name="gradientAlignment">Whether to apply the PCGrad-style alignment of docs/algorithms/paper-methods.md#gradient-alignment. Default off.</param>
    /// <param name="auxiliaryStopEpoch">The epoch (counted from 1) from which α is treated as 0, or <see langword="null"/>
    /// for never; at least 1.</param>
    /// <param name="validateInputs">Whether the TorchSharp path checks finiteness and label range. The CPU path always does.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message states the range).</exception>
    public DualHeadKdOptions(
        double gamma = 1,
        double alpha = 1,
        double temperature = 2,
        double kdTemperature = 4,
        DualHeadAuxiliaryLoss auxiliaryLoss = DualHeadAuxiliaryLoss.BinaryKLNorm,
        LogitClampMode clampMode = LogitClampMode.None,
        AuxiliaryHeadKind auxiliaryHead = AuxiliaryHeadKind.Linear,
        int nonLinearHiddenWidth = 200,
        double nonLinearDropout = 0.1,
        bool gradientAlignment = false,
        int? auxiliaryStopEpoch = null,
        bool validateInputs = true)
    {
        Gamma = Require.FiniteNonNegative(gamma, nameof(gamma));
        Alpha = Require.FiniteNonNegative(alpha, nameof(alpha));
        Temperature = Require.FinitePositive(temperature, nameof(temperature));
        KdTemperature = Require.FinitePositive(kdTemperature, nameof(kdTemperature));
        AuxiliaryLoss = Require.Defined(auxiliaryLoss, nameof(auxiliaryLoss));
        ClampMode = Require.Defined(clampMode, nameof(clampMode));
        AuxiliaryHead = Require.Defined(auxiliaryHead, nameof(auxiliaryHead));

        NonLinearHiddenWidth = Require.AtLeast(nonLinearHiddenWidth, 1, nameof(nonLinearHiddenWidth));
        NonLinearDropout = Require.FractionBelowOne(nonLinearDropout, nameof(nonLinearDropout));

        if (auxiliaryStopEpoch is < 1)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(auxiliaryStopEpoch), auxiliaryStopEpoch, "must be null or at least 1");
        }

        GradientAlignment = gradientAlignment;
        AuxiliaryStopEpoch = auxiliaryStopEpoch;
        ValidateInputs = validateInputs;
    }

    /// <summary>The CIFAR-100 recipe: γ = 1, α = 1, T = 2, linear auxiliary head, no alignment (also the defaults).</summary>
    public static DualHeadKdOptions Cifar100 { get; } = new();

    /// <summary>The official quick start for heterogeneous pairs (e.g. ResNet32×4 → ShuffleV2): CIFAR-100 with a
    /// <see cref="AuxiliaryHeadKind.NonLinear"/> head and gradient alignment.</summary>
    public static DualHeadKdOptions Cifar100Heterogeneous { get; } = new(auxiliaryHead: AuxiliaryHeadKind.NonLinear, gradientAlignment: true);

    /// <summary>The ImageNet recipe (ResNet34 → ResNet18): γ = 1, α = 0.1, T = 2, linear head, α = 0 from epoch 50.</summary>
    public static DualHeadKdOptions ImageNet { get; } = new(alpha: 0.1, auxiliaryStopEpoch: 50);

    /// <summary>γ, the weight of the main head's cross-entropy.</summary>
    public double Gamma { get; }

    /// <summary>α, the weight of the auxiliary loss.</summary>
    public double Alpha { get; }

    /// <summary>T, the temperature of BinaryKL-Norm and BinaryKL.</summary>
    public double Temperature { get; }

    /// <summary>T_kd, the temperature of Softmax KD.</summary>
    public double KdTemperature { get; }

    /// <summary>The auxiliary head's loss.</summary>
    public DualHeadAuxiliaryLoss AuxiliaryLoss { get; }

    /// <summary>The clamp of the binary losses.</summary>
    public LogitClampMode ClampMode { get; }

    /// <summary>The auxiliary head's architecture.</summary>
    public AuxiliaryHeadKind AuxiliaryHead { get; }

    /// <summary>H, the hidden width of the non-linear auxiliary head.</summary>
    public int NonLinearHiddenWidth { get; }

    /// <summary>The dropout probability of the non-linear auxiliary head.</summary>
    public double NonLinearDropout { get; }

    /// <summary>Whether the PCGrad-style gradient alignment (docs/algorithms/paper-methods.md#gradient-alignment) is on. The training loop applies it by calling
    /// <c>Logits.TorchSharp.Distillation.GradientAligner.Backward</c> with the two weighted components instead of
    /// backpropagating the total; the loss itself does not change.</summary>
    public bool GradientAlignment { get; }

    /// <summary>The epoch (from 1) from which α is 0, or <see langword="null"/>.</summary>
    public int? AuxiliaryStopEpoch { get; }

    /// <summary>Whether the TorchSharp path validates its inputs.</summary>
    public bool ValidateInputs { get; }

    /// <summary>α at an epoch: 0 when <c>epoch ≥ AuxiliaryStopEpoch</c>, as in the reference; otherwise <see cref="Alpha"/>.</summary>
    /// <param name="epoch">The epoch counted from 1, or <see langword="null"/> when epochs are not tracked.</param>
    /// <returns>The effective weight of the auxiliary loss.</returns>
    public double AlphaAt(int? epoch) =>
        epoch is int e && AuxiliaryStopEpoch is int stop && e >= stop ? 0 : Alpha;
}

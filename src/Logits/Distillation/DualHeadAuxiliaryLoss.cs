namespace Logits.Distillation;

/// <summary>The logit-level loss on Dual-Head KD's auxiliary head (docs/algorithms/paper-methods.md#losses; arXiv 2411.08937).</summary>
public enum DualHeadAuxiliaryLoss
{
    /// <summary>BinaryKL-Norm (default): <c>(T²/N)·Σ log cosh(Δ/(2T))</c>, <c>Δ = z¹ − z_t</c>.</summary>
    BinaryKLNorm = 0,

    /// <summary>BinaryKL: per-class Bernoulli KL from <c>σ(z_t/T)</c> to <c>σ(z¹/T)</c>, times <c>T²/N</c>.</summary>
    BinaryKL = 1,

    /// <summary>Classic temperature distillation, <c>(T_kd²/N)·Σ KL(softmax(z_t/T_kd) ‖ softmax(z¹/T_kd))</c> (a library option on this head).</summary>
    SoftmaxKD = 2,
}
